// e2e_test.cc -- the plugin through the real stagehost binary: exit codes 0/1/2, the four reports
// in stagehost-run.json, and a result JSON reused as the next baseline.
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::model_validation::testing {
namespace {

using stagehost::testutil::RunStagehost;
using stagehost::testutil::StagehostCall;
using stagehost::testutil::TempDir;

class EndToEnd : public ::testing::Test {
 protected:
  void SetUp() override {
    // Binary problem, accuracy 0.75, ROC AUC 0.875.
    WriteText(ws_.path() + "/p.csv", "label,prediction,p\n1,1,0.8\n1,1,0.5\n0,1,0.5\n0,0,0.2\n");
  }
  stagehost::testutil::ProcessResult Run(const std::string& config) {
    WriteText(ws_.path() + "/cfg.json", config);
    StagehostCall call;
    call.args = {"run",         "model-validation",  "--workspace", ws_.path(),
                 "--artifacts", ws_.path() + "/out", "--config",    ws_.path() + "/cfg.json"};
    call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
    return RunStagehost(call);
  }
  nlohmann::json RunRecord() {
    return nlohmann::json::parse(ReadText(ws_.path() + "/out/stagehost-run.json"));
  }
  TempDir ws_;
};

TEST_F(EndToEnd, PassesAndRecordsFourReports) {
  auto r = Run(R"({"predictions": {"path": "p.csv", "probability_column": "p"},
                   "gates": [{"metric": "accuracy", "min": 0.7}, {"metric": "roc_auc", "min": 0.8}]})");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "PASS  accuracy >= 0.7");
  const std::string record = ReadText(ws_.path() + "/out/stagehost-run.json");
  for (const char* f : {"model-validation.json", "metrics.txt", "junit.xml", "summary.md"}) {
    EXPECT_CONTAINS(record, f);
  }
  EXPECT_CONTAINS(record, "application/openmetrics-text");
  const std::string metrics = ReadText(ws_.path() + "/out/metrics.txt");
  EXPECT_CONTAINS(metrics, "model_roc_auc 0.875\n");
  EXPECT_EQ(metrics.substr(metrics.size() - 6), "# EOF\n");
  const std::string junit = ReadText(ws_.path() + "/out/junit.xml");
  EXPECT_CONTAINS(junit, "tests=\"2\" failures=\"0\"");
}

TEST_F(EndToEnd, FailedGateExitsOneAndSaysByHowMuch) {
  auto r = Run(R"({"predictions": {"path": "p.csv", "probability_column": "p"},
                   "gates": [{"metric": "accuracy", "min": 0.9}, {"metric": "log_loss", "max": 5}]})");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err,
                  "FAIL  accuracy >= 0.9: accuracy = 0.75 is below the minimum 0.9 by 0.15");
  const std::string junit = ReadText(ws_.path() + "/out/junit.xml");
  EXPECT_CONTAINS(junit, "tests=\"2\" failures=\"1\"");
  EXPECT_CONTAINS(junit, "<failure type=\"GateFailed\"");
  EXPECT_CONTAINS(ReadText(ws_.path() + "/out/summary.md"), "❌ failed");
}

TEST_F(EndToEnd, BadInputExitsTwo) {
  WriteText(ws_.path() + "/p.csv", "label,prediction,p\n1,1,0.8\n1,1,oops\n");
  auto r = Run(R"({"predictions": {"path": "p.csv", "probability_column": "p"}})");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "p.csv:3: column \"p\": \"oops\" is not a number");
}

TEST_F(EndToEnd, SchemaRejectsUnknownKey) {
  auto r = Run(R"({"predictions": {"path": "p.csv", "labl_column": "x"}})");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
}

TEST_F(EndToEnd, ResultIsTheNextBaseline) {
  auto first = Run(R"({"predictions": {"path": "p.csv", "probability_column": "p"}})");
  ASSERT_EQ(first.exit_code, 0) << first.Describe();
  WriteText(ws_.path() + "/baseline.json", ReadText(ws_.path() + "/out/model-validation.json"));
  // A worse model: one more wrong row (accuracy 0.5, was 0.75).
  WriteText(ws_.path() + "/p.csv", "label,prediction,p\n1,1,0.8\n1,0,0.5\n0,1,0.5\n0,0,0.2\n");
  const std::string gates = R"({"predictions": {"path": "p.csv", "probability_column": "p"},
      "baseline": {"path": "baseline.json", "required": true}, "gates": [)";
  auto rel = Run(gates + R"({"metric": "accuracy", "max_relative_worsening": 0.2}]})");
  ASSERT_HOST_SURVIVED(rel);
  EXPECT_EQ(rel.exit_code, 1) << rel.Describe();
  EXPECT_CONTAINS(rel.out + rel.err, "relative worsening 33.3333 %");
  auto abs = Run(gates + R"({"metric": "accuracy", "max_worsening": 0.3},
                             {"metric": "roc_auc", "max_worsening": 0.0}]})");
  EXPECT_EQ(abs.exit_code, 0) << abs.Describe();  // ROC AUC unchanged: the scores are the same
  const nlohmann::json result =
      nlohmann::json::parse(ReadText(ws_.path() + "/out/model-validation.json"));
  EXPECT_EQ(result["deltas"]["accuracy"]["delta"].get<double>(), -0.25);
  EXPECT_EQ(result["baseline"]["metrics"]["accuracy"].get<double>(), 0.75);
  // A missing required baseline is an error (2); an optional one skips the change gates (0).
  std::remove((ws_.path() + "/baseline.json").c_str());
  EXPECT_EQ(Run(gates + R"({"metric": "accuracy", "max_worsening": 0.3}]})").exit_code, 2);
  auto skipped = Run(R"({"predictions": {"path": "p.csv", "probability_column": "p"},
      "baseline": {"path": "baseline.json"}, "gates": [{"metric": "accuracy", "max_worsening": 0}]})");
  EXPECT_EQ(skipped.exit_code, 0) << skipped.Describe();
  EXPECT_CONTAINS(ReadText(ws_.path() + "/out/junit.xml"), "<skipped");
}

TEST_F(EndToEnd, ModelChecks) {
  WriteText(ws_.path() + "/model.bin", std::string(100, 'x'));
  auto r =
      Run(R"({"predictions": {"path": "p.csv"}, "model": {"path": "model.bin", "max_bytes": 50}})");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "100 bytes exceeds the budget 50 by 50");
  const nlohmann::json result =
      nlohmann::json::parse(ReadText(ws_.path() + "/out/model-validation.json"));
  EXPECT_EQ(result["model"]["sha256"], stagehost::testutil::Sha256Hex(std::string(100, 'x')));
}

TEST(Example, ExampleProjectPasses) {
  TempDir out;
  StagehostCall call;
  call.args = {"run",         "model-validation",
               "--workspace", STAGEHOST_SOURCE_DIR "/examples",
               "--artifacts", out.path(),
               "--config",    STAGEHOST_SOURCE_DIR "/examples/stagehost/model-validation.yml"};
  call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
  auto r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(ReadText(out.path() + "/metrics.txt"), "model_accuracy 0.9555555555555556");
}

}  // namespace
}  // namespace stagehost::model_validation::testing
