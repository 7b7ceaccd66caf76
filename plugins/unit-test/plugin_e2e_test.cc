// plugin_e2e_test.cc -- the unit-test plugin through the real `stagehost` binary: exit codes
// 0/1/2, the emitted report, outputs in stagehost-run.json, retries, quarantine, sharding.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "test_helpers.h"

namespace stagehost::unit_test {
namespace {

using nlohmann::json;
using stagehost::testutil::FileExists;
using stagehost::testutil::ProcessResult;
using stagehost::testutil::ReadFile;
using stagehost::testutil::RunStagehost;
using stagehost::testutil::StagehostCall;
using stagehost::testutil::TempDir;
using stagehost::testutil::WriteFile;

constexpr char kPytestOnlyGood[] = R"PY(import os


def test_a():
    pass


def test_b():
    pass


def test_flaky():
    path = os.environ["FLAKY_COUNTER_FILE"]
    runs = int(open(path).read() or "0") if os.path.exists(path) else 0
    with open(path, "w") as f:
        f.write(str(runs + 1))
    assert runs >= 1, "fails on the first run only"
)PY";

class UnitTestPlugin : public ::testing::Test {
 protected:
  std::string ws() const { return dir_.Sub("ws"); }
  std::string art() const { return dir_.path() + "/artifacts"; }

  ProcessResult Stage(const json& config, std::map<std::string, std::string> env = {}) {
    WriteFile(dir_.path() + "/config.json", config.dump());
    StagehostCall call;
    call.args = {"run",         "unit-test", "--workspace", ws(),
                 "--artifacts", art(),       "--config",    dir_.path() + "/config.json"};
    call.plugin_path = STAGEHOST_UT_PLUGIN_DIR;
    env.emplace("FLAKY_COUNTER_FILE", dir_.path() + "/counter");
    env.emplace("CI_NODE_INDEX", "");
    env.emplace("CI_NODE_TOTAL", "");
    call.env = env;
    call.timeout = std::chrono::milliseconds(60000);
    ProcessResult r = RunStagehost(call);
    if (FileExists(art() + "/stagehost-run.json")) {
      record_ = json::parse(ReadFile(art() + "/stagehost-run.json"), nullptr, false);
    }
    return r;
  }

  json Pytest(std::vector<std::string> extra = {}) const {
    json argv = {"/usr/bin/python3",        "-m", "pytest", "-q", "-p", "no:cacheprovider",
                 "--junitxml=out/junit.xml"};
    for (auto& e : extra) argv.push_back(e);
    return json{{"commands", json::array({json{{"argv", argv}}})}, {"junit", {"out/*.xml"}}};
  }

  long Output(const char* key) const { return record_["outputs"].value(key, -1L); }
  std::string Report() const { return ReadFile(art() + "/junit.xml"); }

  TempDir dir_;
  json record_;
};

TEST_F(UnitTestPlugin, FlakyTestPassesOnRetryAndIsRecorded) {
  WriteFile(ws() + "/test_good.py", kPytestOnlyGood);
  json config = Pytest();
  config["retries"] = 2;
  ProcessResult r = Stage(config);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // 3 tests: 3 passed, 1 of them flaky (Surefire's flakyFailure keeps the failed attempt).
  EXPECT_EQ(Output("tests"), 3);
  EXPECT_EQ(Output("passed"), 3);
  EXPECT_EQ(Output("flaky"), 1);
  EXPECT_EQ(Output("failed"), 0);
  std::string xml = Report();
  EXPECT_CONTAINS(xml, "<flakyFailure message=\"AssertionError: fails on the first run only");
  EXPECT_CONTAINS(xml, "<testsuites name=\"stagehost unit-test\" tests=\"3\" failures=\"0\"");
  EXPECT_CONTAINS(r.out, "FLAKY test_good::test_flaky: passed on retry 1");
  ASSERT_EQ(record_["artifacts"].size(), 1u);
  EXPECT_EQ(record_["artifacts"][0]["path"], "junit.xml");
  EXPECT_EQ(record_["artifacts"][0]["media_type"], "application/xml");
}

TEST_F(UnitTestPlugin, RealFailuresFailTheStageWithRerunFailures) {
  WriteFile(ws() + "/test_kinds.py", fixtures::kPytestModule);
  json config = Pytest();
  config["retries"] = 1;
  ProcessResult r = Stage(config);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  // 6 tests: passed 3 (test_flaky passed on retry), failed 1, errors 1, skipped 1, flaky 1.
  EXPECT_EQ(Output("tests"), 6);
  EXPECT_EQ(Output("passed"), 3);
  EXPECT_EQ(Output("failed"), 1);
  EXPECT_EQ(Output("errors"), 1);
  EXPECT_EQ(Output("skipped"), 1);
  EXPECT_EQ(Output("flaky"), 1);
  std::string xml = Report();
  EXPECT_CONTAINS(xml, "<rerunFailure");
  EXPECT_CONTAINS(xml, "<rerunError");
  EXPECT_CONTAINS(xml, "<flakyFailure");
  EXPECT_CONTAINS(r.out, "FAILED test_kinds::test_fails");
  EXPECT_CONTAINS(r.out, "1 failed, 1 errors");
}

TEST_F(UnitTestPlugin, QuarantinedFailuresDoNotFailTheStage) {
  WriteFile(ws() + "/test_kinds.py", fixtures::kPytestModule);
  WriteFile(ws() + "/quarantine.txt", "# known bad\ntest_kinds::test_fixture_error\n");
  json config = Pytest();
  config["retries"] = 1;
  config["quarantine"] = {"test_kinds::test_fails"};
  config["quarantine_file"] = "quarantine.txt";
  ProcessResult r = Stage(config);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Output("quarantined"), 2);
  EXPECT_EQ(Output("failed"), 0);
  EXPECT_EQ(Output("errors"), 0);
  // Still visible as failures in GitLab and Jenkins, marked quarantined.
  EXPECT_CONTAINS(Report(), "quarantined=\"true\"><failure message=\"[quarantined] ");
}

TEST_F(UnitTestPlugin, GoogleTestRetryWithFilter) {
  json config = {{"commands",
                  {{{"argv", {STAGEHOST_UT_GTEST_SAMPLE, "--gtest_output=xml:gtest.xml"}},
                    {"env", {{"FLAKY_COUNTER_FILE", dir_.path() + "/gcounter"}}}}}},
                 {"junit", {"gtest.xml"}},
                 {"retries", 1},
                 {"quarantine", {"Sample::Fails"}}};
  ProcessResult r = Stage(config);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  // 6 tests: 3 passed (Passes, RecordsProperty, Flaky.PassesSecondTime on retry), 1 quarantined,
  // 2 skipped (Skips, DISABLED_NotYet), 1 flaky.
  EXPECT_EQ(Output("tests"), 6);
  EXPECT_EQ(Output("passed"), 3);
  EXPECT_EQ(Output("skipped"), 2);
  EXPECT_EQ(Output("flaky"), 1);
  EXPECT_EQ(Output("quarantined"), 1);
  EXPECT_CONTAINS(r.out, "--gtest_filter=Flaky.PassesSecondTime:Sample.Fails");
  EXPECT_CONTAINS(Report(), "<skipped message=\"disabled (GoogleTest DISABLED_ test, not run)\"/>");
}

TEST_F(UnitTestPlugin, CtestFailuresGetTheirOutputAsMessage) {
  WriteFile(ws() + "/CTestTestfile.cmake", fixtures::kCtestFile);
  json config = {{"commands", {{{"argv", {STAGEHOST_UT_CTEST, "--output-junit", "ctest.xml"}}}}},
                 {"junit", {"ctest.xml"}}};
  ProcessResult r = Stage(config);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(Output("tests"), 5);
  EXPECT_EQ(Output("passed"), 1);
  EXPECT_EQ(Output("failed"), 2);
  EXPECT_EQ(Output("skipped"), 2);
  std::string xml = Report();
  EXPECT_CONTAINS(xml, "<failure message=\"assertion failed: x == 2\">");
  EXPECT_CONTAINS(xml, "<skipped message=\"disabled (CTest DISABLED property)\"/>");
}

TEST_F(UnitTestPlugin, ShardsFromCiNodeVariablesCoverEveryTestOnce) {
  std::string module;
  for (int i = 0; i < 7; ++i) module += "def test_" + std::to_string(i) + "():\n    pass\n\n\n";
  WriteFile(ws() + "/test_many.py", module);
  std::set<std::string> seen;
  for (int shard = 1; shard <= 2; ++shard) {
    ProcessResult r =
        Stage(Pytest(), {{"CI_NODE_INDEX", std::to_string(shard)}, {"CI_NODE_TOTAL", "2"}});
    ASSERT_HOST_SURVIVED(r);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_EQ(Output("tests"), shard == 1 ? 4 : 3);
    std::string xml = Report();
    for (int i = 0; i < 7; ++i) {
      std::string name = "name=\"test_" + std::to_string(i) + "\"";
      if (xml.find(name) != std::string::npos) EXPECT_TRUE(seen.insert(name).second) << name;
    }
  }
  EXPECT_EQ(seen.size(), 7u);
}

TEST_F(UnitTestPlugin, ZeroTestsCollectedFails) {
  WriteFile(ws() + "/test_none.py", "x = 1\n");
  ProcessResult r = Stage(Pytest());
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "only 0 tests executed, min_tests is 1");
}

TEST_F(UnitTestPlugin, MalformedReportIsASystemFailure) {
  std::filesystem::create_directories(ws() + "/reports");
  WriteFile(ws() + "/reports/junit.xml", "<testsuites><testsuite name=\"s\"><testcase name=\"a\">");
  ProcessResult r = Stage({{"collect_only", true}, {"junit", {"reports/*.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_CONTAINS(r.err, "report reports/junit.xml: malformed XML at line 1");
}

TEST_F(UnitTestPlugin, CollectOnlyReadsExistingReports) {
  std::filesystem::create_directories(ws() + "/reports");
  WriteFile(ws() + "/reports/TEST-a.xml",
            "<testsuite name=\"a\"><testcase classname=\"a\" name=\"x\"/></testsuite>");
  ProcessResult r = Stage({{"collect_only", true}, {"junit", {"reports/*.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(Output("passed"), 1);
}

TEST_F(UnitTestPlugin, NoReportFromASucceedingCommandIsAConfigError) {
  ProcessResult r =
      Stage({{"commands", {{{"argv", {"/bin/true"}}}}}, {"junit", {"nowhere/*.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_CONTAINS(r.err, "no JUnit report matched [nowhere/*.xml]");
}

TEST_F(UnitTestPlugin, CrashBeforeAnyReportFailsTheStage) {
  ProcessResult r = Stage({{"commands", {{{"argv", {"/bin/sh", "-c", "kill -SEGV $$"}}}}},
                           {"junit", {"nowhere/*.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "killed by signal 11");
}

TEST_F(UnitTestPlugin, TimeoutKillsTheCommandAndFails) {
  ProcessResult r = Stage(
      {{"commands", {{{"argv", {"/bin/sh", "-c", "sleep 30 & sleep 30"}}, {"timeout_seconds", 1}}}},
       {"junit", {"nowhere/*.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_CONTAINS(r.out, "timed out after 1 s");
  EXPECT_LT(r.wall.count(), 15000);
}

TEST_F(UnitTestPlugin, BadConfigGetsAPreciseMessage) {
  ProcessResult r =
      Stage({{"collect_only", true}, {"commands", {{{"argv", {"x"}}}}}, {"junit", {"a.xml"}}});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "collect_only is true but commands are given");
  r = Stage({{"commands", {{{"argv", {"no-such-program-xyz"}}}}}, {"junit", {"a.xml"}}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "commands[0]: \"no-such-program-xyz\" not found");
  r = Stage({{"collect_only", true}, {"junit", {"../outside.xml"}}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "junit[0] \"../outside.xml\": '..' would leave the workspace");
  r = Stage({{"collect_only", true}, {"junit", {"a.xml"}}, {"retires", 2}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "retires");
}

}  // namespace
}  // namespace stagehost::unit_test
