// ConsoleFilter and ProgressiveLog: CRLF, console notes split anywhere, offset regressions.
#include "jenkins/progressive_log.h"

#include <gtest/gtest.h>

namespace stagehost::jenkins {
namespace {

const std::string kNote =
    "\x1b[8mha:AAAAWB+LCAAAAAAAAP9b85aBtbiIQTGjNKU4P08vOT+vOD8nVc8DwgsJ==\x1b[0m";

// Feeds `text` cut at every position in `cuts`, then finishes.
std::string FeedInPieces(const std::string& text, std::vector<size_t> cuts) {
  ConsoleFilter filter;
  std::string out;
  size_t at = 0;
  cuts.push_back(text.size());
  for (size_t cut : cuts) {
    out += filter.Feed(std::string_view(text).substr(at, cut - at));
    at = cut;
  }
  return out + filter.Finish();
}

TEST(JenkinsConsoleFilterTest, RestoresLfAndStripsNotes) {
  EXPECT_EQ(FeedInPieces("a\r\n" + kNote + "[Pipeline] sh\r\nb\r\n", {}), "a\n[Pipeline] sh\nb\n");
}

TEST(JenkinsConsoleFilterTest, NoteAndCrlfSplitAtEveryByte) {
  const std::string text = "x\r\n" + kNote + "step\r\nlone\rcr " + kNote + kNote + "end\r\n";
  const std::string want = "x\nstep\nlone\rcr end\n";
  for (size_t i = 0; i <= text.size(); ++i) {
    for (size_t j = i; j <= text.size(); j += 7) {
      ASSERT_EQ(FeedInPieces(text, {i, j}), want) << "cuts at " << i << ", " << j;
    }
  }
}

TEST(JenkinsConsoleFilterTest, OtherEscapesAndPartialMarkerAtEndStay) {
  EXPECT_EQ(FeedInPieces("\x1b[31mred\x1b[0m\n", {3}), "\x1b[31mred\x1b[0m\n");
  // A log that ends inside a start marker is plain text; an unterminated note is dropped.
  EXPECT_EQ(FeedInPieces("tail \x1b[8mh", {6}), "tail \x1b[8mh");
  EXPECT_EQ(FeedInPieces("tail \x1b[8mha:abc", {}), "tail ");
  EXPECT_EQ(FeedInPieces("cr at end\r", {}), "cr at end\r");
}

TEST(JenkinsProgressiveLogTest, UsesTextSizeNotBodyLength) {
  ProgressiveLog log;
  // The body has CRLF and a note, so its length is not the raw offset.
  auto step = log.Accept({0, 40, true, "one\r\n" + kNote + "two\r\n"});
  EXPECT_EQ(step.output, "one\ntwo\n");
  EXPECT_FALSE(step.complete);
  EXPECT_EQ(log.next_start(), 40u);
  step = log.Accept({40, 44, false, "end\r\n"});
  EXPECT_TRUE(step.complete);
  EXPECT_EQ(step.output, "end\n");
}

TEST(JenkinsProgressiveLogTest, RegressingOffsetIsNotReprinted) {
  ProgressiveLog log;
  ASSERT_EQ(log.Accept({0, 10, true, "aaaa\r\nbbb\r\n"}).output, "aaaa\nbbb\n");
  // The server treated start=10 as beyond its end and resent from 0 with a smaller size.
  auto step = log.Accept({10, 5, true, "aaaa\r\n"});
  EXPECT_TRUE(step.regressed);
  EXPECT_EQ(step.output, "");
  EXPECT_EQ(log.next_start(), 10u);  // never adopt the smaller offset
  // A missing X-Text-Size places nothing either.
  step = log.Accept({10, std::nullopt, false, "zzz"});
  EXPECT_TRUE(step.regressed);
  EXPECT_FALSE(step.complete);
  EXPECT_EQ(log.Accept({10, 14, false, "ccc\r\n"}).output, "ccc\n");
}

TEST(JenkinsProgressiveLogTest, MissingTailAgainstConsoleText) {
  ProgressiveLog log;
  ASSERT_EQ(log.Accept({0, 12, false, "line one\r\n"}).output, "line one\n");
  EXPECT_EQ(log.Finish(), "");
  EXPECT_EQ(log.MissingTail("line one\npartial"), "partial");
  EXPECT_EQ(log.MissingTail("line one\n"), "");
  EXPECT_EQ(log.MissingTail("line 1\nmore"), std::nullopt);  // diverged
  EXPECT_EQ(log.MissingTail("line"), std::nullopt);          // shorter
}

// The streamed check gives MissingTail's answer however the console is cut into pieces, CRLF
// pairs and console notes included.
TEST(JenkinsProgressiveLogTest, StreamedTailCheckMatchesAtEveryCut) {
  ProgressiveLog log;
  const std::string note = "\x1b[8mha:AAAA\x1b[0m";
  ASSERT_EQ(log.Accept({0, 30, false, "one\r\n" + note + "two\r\n"}).output, "one\ntwo\n");
  log.Finish();
  const std::string console = "one\r\n" + note + "two\r\nthr" + note + "ee";
  const std::string diverged = "one\r\nTWO\r\nthree";
  for (size_t piece = 1; piece <= console.size(); ++piece) {
    ConsoleTailCheck check(log);
    for (size_t at = 0; at < console.size(); at += piece) check.Feed(console.substr(at, piece));
    EXPECT_EQ(check.Finish(), std::optional<std::string>("three")) << "pieces of " << piece;
    ConsoleTailCheck other(log);
    for (size_t at = 0; at < diverged.size(); at += piece) other.Feed(diverged.substr(at, piece));
    EXPECT_EQ(other.Finish(), std::nullopt) << "pieces of " << piece;
  }
}

}  // namespace
}  // namespace stagehost::jenkins
