// LimitedSink tests: the budget, the notice, dropped-byte counts and UTF-8-safe cuts.
#include "log/limited_sink.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "log/byte_sink.h"

namespace stagehost::log {
namespace {

class FailingSink : public ByteSink {
 public:
  Status Write(std::string_view) override { return Unavailable("disk full"); }
};

// Writes `writes` through a LimitedSink of `limit` bytes and returns what came out.
std::string Limit(uint64_t limit, const std::vector<std::string>& writes,
                  uint64_t* dropped = nullptr) {
  StringSink sink;
  LimitedSink limited(&sink, limit);
  for (const std::string& w : writes) EXPECT_TRUE(limited.Write(w).ok());
  EXPECT_TRUE(limited.Close().ok());
  if (dropped != nullptr) *dropped = limited.dropped_bytes();
  return sink.data();
}

TEST(LimitedSinkTest, ForwardsEverythingUnderTheLimit) {
  uint64_t dropped = 99;
  EXPECT_EQ(Limit(10, {"hello", "world"}, &dropped), "helloworld");
  EXPECT_EQ(dropped, 0u);
}

TEST(LimitedSinkTest, CutsAtTheLimitAndWritesOneNotice) {
  StringSink sink;
  LimitedSink limited(&sink, 8);
  ASSERT_TRUE(limited.Write("12345").ok());
  ASSERT_TRUE(limited.Write("67890").ok());
  EXPECT_TRUE(limited.truncated());
  EXPECT_EQ(sink.data(), "12345678" + LimitedSink::Notice(8));
  // Later writes succeed (the producer must not block) and are only counted.
  ASSERT_TRUE(limited.Write("more").ok());
  ASSERT_TRUE(limited.Write("").ok());
  ASSERT_TRUE(limited.Close().ok());
  EXPECT_EQ(sink.data(), "12345678" + LimitedSink::Notice(8));
  EXPECT_EQ(limited.forwarded_bytes(), 8u);
  EXPECT_EQ(limited.dropped_bytes(), 6u);
}

TEST(LimitedSinkTest, ExactlyTheLimitIsNotTruncated) {
  StringSink sink;
  LimitedSink limited(&sink, 4);
  ASSERT_TRUE(limited.Write("abcd").ok());
  EXPECT_FALSE(limited.truncated());
  EXPECT_EQ(sink.data(), "abcd");
  ASSERT_TRUE(limited.Write("e").ok());
  EXPECT_EQ(sink.data(), "abcd" + LimitedSink::Notice(4));
  EXPECT_EQ(limited.dropped_bytes(), 1u);
}

TEST(LimitedSinkTest, NoticeNamesTheLimit) {
  const std::string notice = LimitedSink::Notice(4194304);
  EXPECT_EQ(notice.front(), '\n');
  EXPECT_EQ(notice.back(), '\n');
  EXPECT_NE(notice.find("4194304 bytes"), std::string::npos);
  EXPECT_NE(notice.find("truncated"), std::string::npos);
}

TEST(LimitedSinkTest, ZeroLimitDropsEverything) {
  uint64_t dropped = 0;
  EXPECT_EQ(Limit(0, {"abc", "de"}, &dropped), LimitedSink::Notice(0));
  EXPECT_EQ(dropped, 5u);
}

TEST(LimitedSinkTest, CutBacksOffToACharacterStart) {
  // "é" is 2 bytes, "€" 3, "😀" 4. Each limit inside a character cuts before it.
  const std::string e = "\xc3\xa9", euro = "\xe2\x82\xac", smile = "\xf0\x9f\x98\x80";
  uint64_t dropped = 0;
  EXPECT_EQ(Limit(3, {"ab" + e + "c"}, &dropped), "ab" + LimitedSink::Notice(3));
  EXPECT_EQ(dropped, 3u);
  EXPECT_EQ(Limit(4, {"ab" + euro}), "ab" + LimitedSink::Notice(4));
  EXPECT_EQ(Limit(3, {"ab" + euro}), "ab" + LimitedSink::Notice(3));
  EXPECT_EQ(Limit(3, {"a" + smile + "b"}), "a" + LimitedSink::Notice(3));
  EXPECT_EQ(Limit(4, {"a" + smile + "b"}), "a" + LimitedSink::Notice(4));
  EXPECT_EQ(Limit(2, {"a" + smile + "b"}), "a" + LimitedSink::Notice(2));
  // A limit on a character boundary needs no back-off.
  EXPECT_EQ(Limit(5, {"a" + smile + "b"}), "a" + smile + LimitedSink::Notice(5));
  EXPECT_EQ(Limit(6, {"a" + smile + "bc"}), "a" + smile + "b" + LimitedSink::Notice(6));
}

TEST(LimitedSinkTest, CharacterSplitAcrossWritesAtTheLimit) {
  // The first write ends exactly at the limit with the lead byte of "é": it must be kept back,
  // since once sent it could not be taken back when the continuation byte crosses the limit.
  StringSink sink;
  LimitedSink limited(&sink, 3);
  ASSERT_TRUE(limited.Write("ab\xc3").ok());
  EXPECT_EQ(sink.data(), "ab");
  ASSERT_TRUE(limited.Write("\xa9zz").ok());
  EXPECT_EQ(sink.data(), "ab" + LimitedSink::Notice(3));
  EXPECT_EQ(limited.dropped_bytes(), 4u);
}

TEST(LimitedSinkTest, KeptCharacterStartIsReleasedWhenTheStreamEnds) {
  StringSink sink;
  LimitedSink limited(&sink, 4);
  ASSERT_TRUE(limited.Write("ab\xe2\x82").ok());
  EXPECT_EQ(sink.data(), "ab");
  ASSERT_TRUE(limited.Close().ok());
  EXPECT_EQ(sink.data(), "ab\xe2\x82");
  EXPECT_FALSE(limited.truncated());
}

TEST(LimitedSinkTest, IncompleteCharacterFarFromTheLimitIsNotHeld) {
  StringSink sink;
  LimitedSink limited(&sink, 100);
  ASSERT_TRUE(limited.Write("ab\xe2\x82").ok());
  EXPECT_EQ(sink.data(), "ab\xe2\x82");
}

TEST(LimitedSinkTest, InvalidUtf8IsCutAtTheLimit) {
  EXPECT_EQ(Limit(3, {"\x80\x80\x80\x80\x80"}), "\x80\x80\x80" + LimitedSink::Notice(3));
  EXPECT_EQ(Limit(5, {"a\x80\x80\x80\x80\x80"}), "a\x80\x80\x80\x80" + LimitedSink::Notice(5));
}

TEST(LimitedSinkTest, DownstreamErrorIsReturned) {
  FailingSink failing;
  LimitedSink limited(&failing, 10);
  EXPECT_EQ(limited.Write("abc").code(), StatusCode::kUnavailable);
}

// Random UTF-8 text, random limits and splits: the output is the longest whole-character prefix
// of at most `limit` bytes, then the notice; bytes not forwarded are counted.
TEST(LimitedSinkTest, RandomSplitsMatchAWholeStreamCut) {
  const std::vector<std::string> chars = {"a", "\n", "\xc3\xa9", "\xe2\x82\xac",
                                          "\xf0\x9f\x98\x80"};
  std::mt19937_64 rng(11);
  for (int n = 0; n < 20000; ++n) {
    std::string text;
    std::vector<size_t> boundaries = {0};
    for (size_t count = rng() % 30; count > 0; --count) {
      text += chars[rng() % chars.size()];
      boundaries.push_back(text.size());
    }
    const uint64_t limit = rng() % (text.size() + 3);
    std::string expected = text;
    if (text.size() > limit) {
      size_t cut = 0;
      for (size_t b : boundaries) {
        if (b <= limit) cut = b;
      }
      expected = text.substr(0, cut) + LimitedSink::Notice(limit);
    }
    std::vector<std::string> writes;
    for (size_t pos = 0; pos < text.size();) {
      const size_t len = rng() % 6;
      writes.push_back(text.substr(pos, len));
      pos += len;
    }
    uint64_t dropped = 0;
    ASSERT_EQ(Limit(limit, writes, &dropped), expected) << "case " << n << " limit " << limit;
    const size_t kept =
        expected.size() - (text.size() > limit ? LimitedSink::Notice(limit).size() : 0);
    ASSERT_EQ(dropped, text.size() - kept) << "case " << n;
  }
}

}  // namespace
}  // namespace stagehost::log
