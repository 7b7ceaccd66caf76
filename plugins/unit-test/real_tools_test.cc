// real_tools_test.cc -- reports generated here by the real tools (GoogleTest, CTest, pytest
// xunit1/xunit2) read and normalised; the counts are the ones GitLab and Jenkins show for the
// normalised file (stated per test).
#include <gtest/gtest.h>

#include "junit_reader.h"
#include "junit_writer.h"
#include "normalise.h"
#include "test_helpers.h"

namespace stagehost::unit_test {
namespace {

using fixtures::RunTool;
using stagehost::testutil::ReadFile;
using stagehost::testutil::TempDir;
using stagehost::testutil::WriteFile;

const TestCase* Find(const Report& report, std::string_view classname, std::string_view name) {
  for (const TestCase& tc : report.cases) {
    if (tc.classname == classname && tc.name == name) return &tc;
  }
  return nullptr;
}

// Normalises `report` as the stage does, writes it, reads the written file back and returns it:
// the counts of the round trip are what a consumer of our output sees.
Report RoundTrip(Report& report) {
  FillEmptyFailures(report, 4096);
  MakeIdsUnique(report);
  std::string xml = RenderJUnit(report, ApplyLimits(report, Limits{}), "t");
  Report again;
  ReadJUnitBytes(xml, "normalised", again);
  return again;
}

TEST(RealTools, GoogleTestReport) {
  TempDir dir;
  std::string xml = dir.path() + "/gtest.xml";
  auto r = RunTool({STAGEHOST_UT_GTEST_SAMPLE, "--gtest_output=xml:" + xml}, dir.path());
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 1);  // one test fails
  Report report;
  ReadJUnitFile(xml, "gtest.xml", report);
  // GoogleTest's own file says tests="6" with the DISABLED_ test as status="notrun" and no
  // <skipped> child: GitLab and Jenkins would count it as passed (3 passed). Normalised:
  // 6 tests, 2 passed (Passes, RecordsProperty), 1 failed, 0 errors, 3 skipped
  // (Skips, DISABLED_NotYet, Flaky.PassesSecondTime which skips without its counter file).
  Counts c = CountCases(report.cases);
  EXPECT_EQ(c.tests, 6u);
  EXPECT_EQ(c.passed, 2u);
  EXPECT_EQ(c.failed, 1u);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(c.skipped, 3u);
  const TestCase* disabled = Find(report, "Sample", "DISABLED_NotYet");
  ASSERT_NE(disabled, nullptr);
  EXPECT_EQ(disabled->verdict, Verdict::kSkipped);
  EXPECT_NE(disabled->message.find("DISABLED_"), std::string_view::npos);
  const TestCase* fails = Find(report, "Sample", "Fails");
  ASSERT_NE(fails, nullptr);
  EXPECT_NE(fails->body.find("arithmetic is hard"), std::string_view::npos);
  const TestCase* prop = Find(report, "Sample", "RecordsProperty");
  ASSERT_NE(prop, nullptr);
  ASSERT_EQ(prop->properties.size(), 1u);
  EXPECT_EQ(prop->properties[0].name, "model");
  EXPECT_EQ(prop->properties[0].value, "iris");

  Report again = RoundTrip(report);
  Counts c2 = CountCases(again.cases);
  EXPECT_EQ(c2.tests, 6u);
  EXPECT_EQ(c2.passed, 2u);
  EXPECT_EQ(c2.skipped, 3u);
  // After normalisation the disabled test carries a <skipped> child, so GitLab sees it skipped.
  const TestCase* disabled2 = Find(again, "Sample", "DISABLED_NotYet");
  ASSERT_NE(disabled2, nullptr);
  EXPECT_EQ(disabled2->verdict, Verdict::kSkipped);
}

TEST(RealTools, CtestReport) {
  TempDir dir;
  WriteFile(dir.path() + "/CTestTestfile.cmake", fixtures::kCtestFile);
  std::string xml = dir.path() + "/ctest.xml";
  auto r = RunTool({STAGEHOST_UT_CTEST, "--output-junit", xml}, dir.path());
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_NE(r.exit_code, 0);
  Report report;
  ReadJUnitFile(xml, "ctest.xml", report);
  // CTest's own file: tests="5" failures="2" skipped="1" disabled="1"; the disabled test has no
  // <skipped> child, so GitLab/Jenkins would show 2 passed. Normalised: 5 tests, 1 passed,
  // 2 failed (fails, hangs), 0 errors, 2 skipped (skips, disabled).
  Counts c = CountCases(report.cases);
  EXPECT_EQ(c.tests, 5u);
  EXPECT_EQ(c.passed, 1u);
  EXPECT_EQ(c.failed, 2u);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(c.skipped, 2u);
  const TestCase* fails = Find(report, "fails", "fails");
  ASSERT_NE(fails, nullptr);
  EXPECT_TRUE(fails->message.empty());  // CTest's trap
  Report again = RoundTrip(report);
  const TestCase* filled = Find(again, "fails", "fails");
  ASSERT_NE(filled, nullptr);
  // Filled from the output tail: the last line is the assertion CTest merged from stderr.
  EXPECT_EQ(filled->message, "assertion failed: x == 2");
  EXPECT_NE(filled->body.find("step one"), std::string_view::npos);
  const TestCase* disabled = Find(again, "disabled", "disabled");
  ASSERT_NE(disabled, nullptr);
  EXPECT_EQ(disabled->verdict, Verdict::kSkipped);
  EXPECT_EQ(disabled->message, "disabled (CTest DISABLED property)");
  const TestCase* hangs = Find(again, "hangs", "hangs");
  ASSERT_NE(hangs, nullptr);
  EXPECT_EQ(hangs->verdict, Verdict::kFailed);
  EXPECT_EQ(hangs->message, "waiting");
  Counts c2 = CountCases(again.cases);
  EXPECT_EQ(c2.passed, 1u);
  EXPECT_EQ(c2.skipped, 2u);
  EXPECT_EQ(c2.failed, 2u);
}

class PytestReport : public ::testing::TestWithParam<const char*> {};

TEST_P(PytestReport, CountsMatch) {
  const std::string family = GetParam();
  TempDir dir;
  WriteFile(dir.path() + "/test_kinds.py", fixtures::kPytestModule);
  std::string xml = dir.path() + "/" + family + ".xml";
  auto r = RunTool({"/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o",
                    "junit_family=" + family, "--junitxml=" + xml, "test_kinds.py"},
                   dir.path(), {{"FLAKY_COUNTER_FILE", dir.path() + "/counter"}});
  ASSERT_TRUE(r.exited) << r.Describe();
  EXPECT_EQ(r.exit_code, 1) << r.out;
  Report report;
  ReadJUnitFile(xml, family, report);
  // 6 tests: 2 passed, 2 failed (test_fails, test_flaky on its first run), 1 error (the fixture),
  // 1 skipped — what pytest's own summary line says and what GitLab and Jenkins show.
  Counts c = CountCases(report.cases);
  EXPECT_EQ(c.tests, 6u);
  EXPECT_EQ(c.passed, 2u);
  EXPECT_EQ(c.failed, 2u);
  EXPECT_EQ(c.errors, 1u);
  EXPECT_EQ(c.skipped, 1u);
  EXPECT_NE(r.out.find("2 failed, 2 passed, 1 skipped"), std::string::npos) << r.out;
  const TestCase* error = Find(report, "test_kinds", "test_fixture_error");
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->verdict, Verdict::kError);
  EXPECT_NE(error->body.find("fixture exploded"), std::string_view::npos);
  const TestCase* skip = Find(report, "test_kinds", "test_skips");
  ASSERT_NE(skip, nullptr);
  EXPECT_NE(skip->message.find("not on this machine"), std::string_view::npos);
  const TestCase* prop = Find(report, "test_kinds", "test_records_property");
  ASSERT_NE(prop, nullptr);
  if (family == "xunit1") {
    // xunit1 keeps file/line and per-test <properties>; xunit2 drops them.
    EXPECT_EQ(prop->file, "test_kinds.py");
    EXPECT_EQ(prop->properties.size(), 1u);
  } else {
    EXPECT_TRUE(prop->file.empty());
  }
  Report again = RoundTrip(report);
  Counts c2 = CountCases(again.cases);
  EXPECT_EQ(c2.tests, 6u);
  EXPECT_EQ(c2.failed, 2u);
  EXPECT_EQ(c2.errors, 1u);
}

INSTANTIATE_TEST_SUITE_P(Families, PytestReport, ::testing::Values("xunit1", "xunit2"));

}  // namespace
}  // namespace stagehost::unit_test
