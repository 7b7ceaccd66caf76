// e2e_test.cc -- the plugin through the real stagehost binary: exit codes 0/1/2, the four reports
// announced in stagehost-run.json, the summary in the log, and the example project passing.
#include <gtest/gtest.h>

#include "planted_tree.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::security_scan::testing {
namespace {

using stagehost::testutil::RunStagehost;
using stagehost::testutil::StagehostCall;
using stagehost::testutil::TempDir;

class EndToEnd : public ::testing::Test {
 protected:
  stagehost::testutil::ProcessResult Run(const std::string& workspace, const std::string& config) {
    WriteText(out_.path() + "/cfg.json", config);
    StagehostCall call;
    call.args = {"run",         "security-scan",      "--workspace", workspace,
                 "--artifacts", out_.path() + "/out", "--config",    out_.path() + "/cfg.json"};
    call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
    call.timeout = std::chrono::milliseconds(60000);
    return RunStagehost(call);
  }
  TempDir ws_, out_;
};

TEST_F(EndToEnd, PlantedSecretsFailTheStageAndWriteFourReports) {
  const PlantedTree tree = WritePlantedTree(ws_.path());
  auto r = Run(ws_.path(), R"({"fail_on": "critical"})");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "findings: " + std::to_string(tree.secrets.size()) + " (critical");
  EXPECT_CONTAINS(r.out + r.err, "github-pat");
  for (const auto& p : tree.secrets)
    EXPECT_EQ((r.out + r.err).find(p.value), std::string::npos) << p.rule;
  const std::string record = ReadText(out_.path() + "/out/stagehost-run.json");
  for (const char* f : {"gl-secret-detection-report.json", "gl-dependency-scanning-report.json",
                        "security-scan.sarif", "security-scan.json"}) {
    EXPECT_CONTAINS(record, f);
  }
  EXPECT_CONTAINS(record, "application/sarif+json");
  const auto report =
      nlohmann::json::parse(ReadText(out_.path() + "/out/gl-secret-detection-report.json"));
  EXPECT_EQ(SchemaErrors(std::string(SS_TESTDATA_DIR) +
                             "/schemas/secret-detection-report-format-15.0.6.json",
                         report),
            "");
  const auto sarif = nlohmann::json::parse(ReadText(out_.path() + "/out/security-scan.sarif"));
  EXPECT_EQ(sarif["runs"][0]["results"].size(), tree.secrets.size());
  EXPECT_EQ(SchemaErrors(SS_SARIF_SCHEMA, sarif), "");
}

TEST_F(EndToEnd, FailOnNeverPassesAndABaselineSilencesKnownFindings) {
  WritePlantedTree(ws_.path());
  auto r = Run(ws_.path(), R"({"fail_on": "never"})");
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  WriteText(ws_.path() + "/baseline.json", ReadText(out_.path() + "/out/security-scan.json"));
  auto b = Run(ws_.path(),
               R"({"fail_on": "low", "baseline": {"path": "baseline.json", "required": true}})");
  EXPECT_EQ(b.exit_code, 0) << b.Describe();
  EXPECT_CONTAINS(b.out + b.err, "(baseline)");
}

TEST_F(EndToEnd, ConfigErrorsExitTwoWithAClearMessage) {
  auto unknown = Run(ws_.path(), R"({"secrets": {"enabeld": true}})");
  ASSERT_HOST_SURVIVED(unknown);
  EXPECT_EQ(unknown.exit_code, 2) << unknown.Describe();
  auto regex = Run(ws_.path(), R"({"exclude": ["(unclosed"]})");
  EXPECT_EQ(regex.exit_code, 2) << regex.Describe();
  EXPECT_CONTAINS(regex.out + regex.err, "exclude: invalid regex \"(unclosed\"");
  auto db = Run(ws_.path(), R"({"dependencies": {"osv_db": "missing-db"}})");
  EXPECT_EQ(db.exit_code, 2) << db.Describe();
  EXPECT_CONTAINS(db.out + db.err, "OSV database:");
}

TEST_F(EndToEnd, UnsafeModelFailsTheStage) {
  WriteText(ws_.path() + "/model.pkl",
            std::string("\x80\x04\x8c\x02nt\x94\x8c\x06system\x94\x93.", 18));
  auto r = Run(ws_.path(), "{}");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "STACK_GLOBAL nt.system");
}

TEST(Example, ExampleProjectPasses) {
  TempDir out;
  StagehostCall call;
  call.args = {"run",         "security-scan",
               "--workspace", STAGEHOST_SOURCE_DIR "/examples",
               "--artifacts", out.path(),
               "--config",    STAGEHOST_SOURCE_DIR "/examples/stagehost/security-scan.yml"};
  call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
  auto r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "findings: 0");
  const auto dep =
      nlohmann::json::parse(ReadText(out.path() + "/gl-dependency-scanning-report.json"));
  EXPECT_EQ(dep["dependency_files"][0]["path"], "requirements.txt");
}

}  // namespace
}  // namespace stagehost::security_scan::testing
