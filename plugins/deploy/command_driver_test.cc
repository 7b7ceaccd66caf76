// command_driver_test.cc -- the command driver through RunDeploy: every argv template (apply,
// set_weight, promote, rollback) expanded and run without a shell, recorded by a script.
#include <gtest/gtest.h>
#include <stagehost/stage.h>

#include <nlohmann/json.hpp>

#include "config.h"
#include "crypto.h"
#include "deploy.h"
#include "state.h"
#include "test_helpers.h"

namespace stagehost::deploy {
namespace {

using namespace testing;

// Appends its arguments as one line to $REC; exits with the code in $1.fail when that file exists.
constexpr const char* kRecorder = R"SH(
printf '%s\n' "$*" >> "$REC"
if [ -f "$REC_DIR/$1.fail" ]; then echo "$1 refused by the target" >&2; exit "$(cat "$REC_DIR/$1.fail")"; fi
exit 0
)SH";

class CommandDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_.workspace = dir_ / "ws";
    run_.artifacts = dir_ / "out";
    Spit(run_.workspace + "/model/model.json", R"({"weights": [1, 2, 3]})");
    Spit(dir_ / "rec.sh", kRecorder);
    run_.vars["DEPLOY_SIGNING_KEY"] = Ed25519Key::Generate().PrivatePem();
    run_.vars["REC"] = dir_ / "rec.txt";
    run_.vars["REC_DIR"] = dir_.path();
  }

  // A deploy of `version` with the command driver; `rollout` adds keys to the rollout object.
  DeployReport Run(const std::string& version, const std::string& strategy,
                   const std::string& rollout = "", const std::string& analysis = "") {
    const std::string sh = "\"/bin/sh\",\"" + (dir_ / "rec.sh") + "\"";
    const std::string cfg =
        R"({"version":")" + version + R"(","environment":"staging","artifacts":["model/model.json"],
      "state_file":"state.json","signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"directory","directory":{"path":"store"}},
      "rollout":{"driver":"command","strategy":")" +
        strategy + R"(","command":{
        "apply":[)" +
        sh +
        R"(,"apply","{version}","{previous_version}","{environment}","{digest}","{artifact_url}"],
        "set_weight":[)" +
        sh + R"(,"set-weight","{version}","{weight}","{stable_weight}"],
        "promote":[)" +
        sh + R"(,"promote","{version}","{previous_version}"],
        "rollback":[)" +
        sh + R"(,"rollback","{previous_version}","{version}"]})" + rollout + "}" + analysis + "}";
    run_.log.clear();
    std::remove((dir_ / "rec.txt").c_str());
    return RunDeploy(ParseConfig(nlohmann::json::parse(cfg)), run_.Env());
  }
  std::vector<std::string> Recorded() {
    std::vector<std::string> lines;
    std::stringstream ss(Slurp(dir_ / "rec.txt"));
    for (std::string l; std::getline(ss, l);) lines.push_back(l);
    return lines;
  }
  DeployState State() {
    return DeployState::FromJson(nlohmann::json::parse(Slurp(run_.workspace + "/state.json")));
  }
  std::string Digest() { return Sha256Hex(Slurp(run_.workspace + "/model/model.json")); }

  TempDir dir_;
  TestRun run_;
};

TEST_F(CommandDriverTest, CanaryRunsEveryTemplateWithItsValues) {
  ASSERT_EQ(Run("v1", "direct").verdict, Verdict::kPassed) << run_.log;
  DeployReport r = Run("v2", "canary", R"(,"steps":[{"weight":10},{"weight":40},{"weight":100}])");
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << run_.log;
  const std::string url = r.record["published"][0]["url"].get<std::string>();
  EXPECT_NE(url.find("/store/model/sha256/" + Digest() + "/model.json"), std::string::npos) << url;
  const std::vector<std::string> want = {
      "apply v2 v1 staging " + Digest() + " " + url,
      "set-weight v2 10 90",
      "set-weight v2 40 60",
      "set-weight v2 100 0",
      "promote v2 v1",
  };
  EXPECT_EQ(Recorded(), want);
  EXPECT_EQ(State().phase, Phase::kDone);
  EXPECT_EQ(State().live_version, "v2");
  EXPECT_EQ(r.record["driver"], "command");
  EXPECT_NE(run_.log.find("  $ /bin/sh"), std::string::npos) << run_.log;
}

TEST_F(CommandDriverTest, FirstDirectDeployHasNoPreviousVersion) {
  DeployReport r = Run("v1", "direct");
  ASSERT_EQ(r.verdict, Verdict::kPassed) << r.message << "\n" << run_.log;
  const std::vector<std::string> want = {
      "apply v1  staging " + Digest() + " " + r.record["published"][0]["url"].get<std::string>(),
      "set-weight v1 100 0", "promote v1 "};
  EXPECT_EQ(Recorded(), want);
}

TEST_F(CommandDriverTest, FailedApplyRollsBackToThePreviousVersion) {
  ASSERT_EQ(Run("v1", "direct").verdict, Verdict::kPassed) << run_.log;
  Spit(dir_ / "apply.fail", "3");
  DeployReport r = Run("v2", "direct");
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.message;
  EXPECT_NE(r.message.find("rolled back to v1: driver error: apply"), std::string::npos)
      << r.message;
  EXPECT_NE(r.message.find("exit 3: apply refused by the target"), std::string::npos) << r.message;
  const std::vector<std::string> want = {
      "apply v2 v1 staging " + Digest() + " " + r.record["published"][0]["url"].get<std::string>(),
      "rollback v1 v2"};
  EXPECT_EQ(Recorded(), want);
  EXPECT_EQ(State().phase, Phase::kRolledBack);
  EXPECT_EQ(State().live_version, "v1");
  EXPECT_EQ(r.record["live_version"], "v1");
}

TEST_F(CommandDriverTest, FailingRollbackIsRollbackFailedAndBlocksTheNextRun) {
  ASSERT_EQ(Run("v1", "direct").verdict, Verdict::kPassed) << run_.log;
  Spit(dir_ / "promote.fail", "4");
  Spit(dir_ / "rollback.fail", "5");
  DeployReport r = Run("v2", "direct");
  EXPECT_EQ(r.verdict, Verdict::kRollbackFailed) << r.message;
  EXPECT_NE(r.message.find("FAILED TO ROLL BACK"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("rollback failed: rollback"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("exit 5"), std::string::npos) << r.message;
  EXPECT_EQ(Recorded().back(), "rollback v1 v2");
  EXPECT_EQ(State().phase, Phase::kRollbackFailed);
  EXPECT_EQ(State().live_version, "v1");
  EXPECT_EQ(r.record["outcome"], "rollback-failed");
  EXPECT_NE(Slurp(run_.artifacts + "/deploy.env").find("DEPLOY_OUTCOME=rollback-failed"),
            std::string::npos);
  // The target is in between: the next run refuses and runs no command.
  std::remove((dir_ / "promote.fail").c_str());
  std::remove((dir_ / "rollback.fail").c_str());
  DeployReport next = Run("v3", "direct");
  EXPECT_EQ(next.verdict, Verdict::kFailed);
  EXPECT_NE(next.message.find("stopped in phase rollback-failed"), std::string::npos)
      << next.message;
  EXPECT_TRUE(Recorded().empty());
}

TEST_F(CommandDriverTest, BreachAtACanaryStepRollsBack) {
  // Nothing listens on the health URL: an unreachable endpoint is a failure, limit 0.
  const std::string health =
      R"(,"analysis":{"interval_seconds":0,"count":1,"health_checks":[{"name":"model","url":"http://127.0.0.1:)" +
      std::to_string(testutil::FreeLoopbackPort()) + R"(/healthz","timeout_seconds":0.5}]})";
  ASSERT_EQ(Run("v1", "direct").verdict, Verdict::kPassed) << run_.log;
  DeployReport r = Run("v2", "canary", R"(,"steps":[{"weight":20},{"weight":100}])", health);
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.message;
  EXPECT_NE(r.message.find("canary 20%: health model failed 1 time(s)"), std::string::npos)
      << r.message;
  const std::vector<std::string> recorded = Recorded();
  ASSERT_EQ(recorded.size(), 3u) << Slurp(dir_ / "rec.txt");
  EXPECT_EQ(recorded[1], "set-weight v2 20 80");
  EXPECT_EQ(recorded[2], "rollback v1 v2");
  EXPECT_EQ(State().phase, Phase::kRolledBack);
}

TEST_F(CommandDriverTest, CommandTimeoutIsADriverError) {
  Spit(dir_ / "slow.sh", "sleep 30\n");
  const std::string cfg = R"({"version":"v1","artifacts":["model/model.json"],
    "state_file":"state.json","require_protected_ref":false,
    "signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"directory","directory":{"path":"store"}},
    "rollout":{"driver":"command","command_timeout_seconds":1,"command":{
      "apply":["/bin/sh",")" +
                          (dir_ / "slow.sh") + R"("],"rollback":["/bin/true"]}}})";
  const auto start = std::chrono::steady_clock::now();
  DeployReport r = RunDeploy(ParseConfig(nlohmann::json::parse(cfg)), run_.Env());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.message;
  EXPECT_NE(r.message.find("apply (/bin/sh"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("timed out"), std::string::npos) << r.message;
  EXPECT_EQ(State().phase, Phase::kRolledBack);
}

TEST_F(CommandDriverTest, CancelDuringApplyStillRollsBackCompletely) {
  ASSERT_EQ(Run("v1", "direct").verdict, Verdict::kPassed) << run_.log;
  // The cancel arrives while apply runs; the rollback it triggers takes longer than the
  // driver's cancel poll (100 ms) and must not be killed by the same cancel.
  const std::string cfg =
      R"({"version":"v2","environment":"staging","artifacts":["model/model.json"],
    "state_file":"state.json","signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
    "publish":{"store":"directory","directory":{"path":"store"}},
    "rollout":{"driver":"command","command":{
      "apply":["/bin/sh","-c","touch \"$REC_DIR/cancel-now\"; sleep 30"],
      "rollback":["/bin/sh","-c","sleep 1; echo rolled back >> \"$REC\""]}}})";
  RunEnv env = run_.Env();
  const std::string flag = dir_ / "cancel-now";
  env.hooks.check_cancelled = [flag] {
    if (fs::exists(flag)) throw stagehost::sdk::Cancelled();
  };
  std::remove((dir_ / "rec.txt").c_str());
  const auto start = std::chrono::steady_clock::now();
  DeployReport r = RunDeploy(ParseConfig(nlohmann::json::parse(cfg)), env);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(15));
  EXPECT_EQ(r.verdict, Verdict::kFailed) << r.message;
  EXPECT_NE(r.message.find("rolled back to v1"), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("cancelled"), std::string::npos) << r.message;
  EXPECT_EQ(Slurp(dir_ / "rec.txt"), "rolled back\n");
  EXPECT_EQ(State().phase, Phase::kRolledBack);
}

}  // namespace
}  // namespace stagehost::deploy
