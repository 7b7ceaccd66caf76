// normalise_test.cc -- unique ids, quarantine, output cuts, GitLab's size and object limits, and
// the writer's escaping (a written report always reads back).
#include "normalise.h"

#include <gtest/gtest.h>

#include "junit_reader.h"
#include "junit_writer.h"
#include "test_helpers.h"

namespace stagehost::unit_test {
namespace {

TestCase Case(std::string_view classname, std::string_view name, Verdict v = Verdict::kPassed) {
  TestCase tc;
  tc.suite = "s";
  tc.classname = classname;
  tc.name = name;
  tc.verdict = v;
  return tc;
}

TEST(Normalise, DuplicateIdsAreRenamed) {
  Report r;
  r.cases = {Case("c", "t"), Case("c", "t", Verdict::kError), Case("c", "t (2)"), Case("d", "t")};
  EXPECT_EQ(MakeIdsUnique(r), 1u);
  EXPECT_EQ(r.cases[0].name, "t");
  EXPECT_EQ(r.cases[1].name, "t (3)");  // "t (2)" is taken by a real test further down
  EXPECT_EQ(r.cases[2].name, "t (2)");
  EXPECT_EQ(r.cases[3].name, "t");
  ASSERT_EQ(r.notes.size(), 1u);
}

TEST(Normalise, QuarantineMatchesIdsWithWildcards) {
  Report r;
  r.cases = {Case("net", "timeout", Verdict::kFailed), Case("net", "dns", Verdict::kError),
             Case("math", "add", Verdict::kFailed), Case("net", "ok")};
  EXPECT_EQ(MarkQuarantined(r, {"net::*"}), 2u);
  Counts c = CountCases(r.cases);
  EXPECT_EQ(c.quarantined, 2u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(c.passed, 1u);
  std::string xml = RenderJUnit(r, WritePlan{}, "x");
  EXPECT_NE(xml.find("message=\"[quarantined] \""), std::string::npos) << xml;
}

TEST(Normalise, HugeSystemOutKeepsItsTail) {
  Report r;
  std::string out(200000, 'a');
  out += "THE END";
  r.cases = {Case("c", "t")};
  r.cases[0].system_out = out;
  WritePlan plan = ApplyLimits(r, Limits{});
  EXPECT_EQ(plan.text_cap, 65536u);
  WriteStats stats;
  std::string xml = RenderJUnit(r, plan, "x", &stats);
  EXPECT_EQ(stats.texts_cut, 1u);
  EXPECT_NE(xml.find("[stagehost: 134471 bytes cut from the start; the last 65536 bytes follow]"),
            std::string::npos);
  EXPECT_NE(xml.find("aTHE END</system-out>"), std::string::npos);
  EXPECT_LT(xml.size(), 70000u);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("cut"), std::string::npos);
}

TEST(Normalise, TailNeverSplitsUtf8) {
  std::string text = "\xC3\xA9\xC3\xA9\xC3\xA9";  // ééé
  EXPECT_EQ(Tail(text, 3), "\xC3\xA9");
  EXPECT_EQ(Tail(text, 4), "\xC3\xA9\xC3\xA9");
}

TEST(Normalise, WriterEscapesEverythingItMust) {
  Report r;
  r.cases = {Case("c<&>\"", "n\tx", Verdict::kFailed)};
  r.cases[0].message = "a\nb \"q\" <x>";
  static constexpr char kBody[] = "ansi \x1b[31mred\x1b[0m nul \0 ]]> end";
  r.cases[0].body = std::string_view(kBody, sizeof kBody - 1);
  r.cases[0].system_out = "--> comment-like";
  r.notes.push_back("a note with -- dashes");
  std::string xml = RenderJUnit(r, WritePlan{}, "n&me");
  Report again;
  ReadJUnitBytes(xml, "written", again);
  ASSERT_EQ(again.cases.size(), 1u);
  EXPECT_EQ(again.cases[0].classname, "c<&>\"");
  EXPECT_EQ(again.cases[0].name, "n\tx");
  EXPECT_EQ(again.cases[0].message, "a\nb \"q\" <x>");
  EXPECT_EQ(again.cases[0].body, "ansi ?[31mred?[0m nul ? ]]> end");
}

// A 31 MB report: over GitLab's 30 MB, so the written file must stay under max_report_bytes with
// a note, every failure kept.
TEST(Normalise, ThirtyOneMegabyteReportIsCutUnderTheLimit) {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites><testsuite name=\"big\">\n";
  std::string chunk(2000, 'x');
  int i = 0;
  while (xml.size() < 31u * 1000 * 1000) {
    xml += "<testcase classname=\"big.C" + std::to_string(i % 50) + "\" name=\"t" +
           std::to_string(i) + "\" time=\"0.01\">";
    if (i % 1000 == 0) xml += "<failure message=\"boom\">trace</failure>";
    xml += "<system-out>" + chunk + "</system-out></testcase>\n";
    ++i;
  }
  xml += "</testsuite></testsuites>\n";
  stagehost::testutil::TempDir dir;
  stagehost::testutil::WriteFile(dir.path() + "/big.xml", xml);
  Report r;
  ReadJUnitFile(dir.path() + "/big.xml", "big.xml", r);
  const std::size_t cases = r.cases.size();
  Counts before = CountCases(r.cases);
  EXPECT_GT(before.failed, 10u);
  Limits limits;  // defaults: 29,000,000 bytes, 240,000 objects
  WritePlan plan = ApplyLimits(r, limits);
  WriteStats stats = WriteJUnit(r, plan, "x", dir.path() + "/out.xml");
  EXPECT_LE(stats.bytes, limits.max_report_bytes);
  EXPECT_LT(plan.text_cap, 2000u);
  EXPECT_EQ(r.cases.size(), cases);  // cutting texts was enough: no case dropped
  bool noted = false;
  for (const auto& n : r.notes) noted = noted || n.find("30 MB") != std::string::npos;
  EXPECT_TRUE(noted);
  Report again;
  ReadJUnitFile(dir.path() + "/out.xml", "out.xml", again);
  Counts after = CountCases(again.cases);
  EXPECT_EQ(after.failed, before.failed);
  EXPECT_EQ(after.tests, before.tests);
}

TEST(Normalise, ObjectLimitDropsPassedCasesKeepsFailures) {
  Report r;
  for (int i = 0; i < 2000; ++i) {
    r.cases.push_back(Case("c", r.arena.Keep("t" + std::to_string(i)),
                           i % 100 == 0 ? Verdict::kFailed : Verdict::kPassed));
  }
  Limits limits;
  limits.max_xml_objects = 3000;
  WritePlan plan = ApplyLimits(r, limits);
  std::size_t objects = 16;
  for (const auto& tc : r.cases) objects += CountObjects(tc, plan);
  EXPECT_LE(objects, 3000u);
  EXPECT_EQ(CountCases(r.cases).failed, 20u);
  EXPECT_LT(r.cases.size(), 2000u);
  ASSERT_FALSE(r.notes.empty());
  EXPECT_NE(r.notes.back().find("250,000"), std::string::npos);
}

TEST(Normalise, FillEmptyFailureWithoutOutput) {
  Report r;
  r.cases = {Case("c", "t", Verdict::kFailed)};
  FillEmptyFailures(r, 100);
  EXPECT_NE(r.cases[0].message.find("no message"), std::string_view::npos);
}

}  // namespace
}  // namespace stagehost::unit_test
