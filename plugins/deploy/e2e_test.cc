// e2e_test.cc -- the deploy plugin through the real stagehost binary: inspect, exit codes 0 / 1
// (rolled back, timed out) / 2 (failed to roll back, schema error), reports in stagehost-run.json,
// the signing key nowhere in the output, and the example config as scripts/demo.sh runs it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "crypto.h"
#include "state.h"
#include "test_helpers.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::deploy {
namespace {

namespace tu = stagehost::testutil;

// Appends its arguments as one line to $REC; exits with the code in $REC_DIR/$1.fail if it exists.
constexpr const char* kRecorder = R"SH(
printf '%s\n' "$*" >> "$REC"
if [ -f "$REC_DIR/$1.fail" ]; then echo "$1 refused by the target" >&2; exit "$(cat "$REC_DIR/$1.fail")"; fi
exit 0
)SH";

class DeployE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = dir_.Sub("ws");
    testing::Spit(ws_ + "/model/model.json", R"({"weights": [1, 2, 3]})");
    testing::Spit(dir_.path() + "/rec.sh", kRecorder);
    key_pem_ = Ed25519Key::Generate().PrivatePem();
  }

  // The config for `version` with the recording command driver; `rollout`/`extra` add keys.
  std::string Config(const std::string& version, const std::string& strategy,
                     const std::string& rollout = "", const std::string& extra = "") {
    const std::string sh = "\"/bin/sh\",\"" + dir_.path() + "/rec.sh\"";
    return R"({"version":")" + version + R"(","environment":"staging",
      "artifacts":["model/model.json"],"signing":{"key_variable":"DEPLOY_SIGNING_KEY"},
      "publish":{"store":"directory","directory":{"path":"store"}},
      "rollout":{"driver":"command","strategy":")" +
           strategy + R"(","command":{"apply":[)" + sh + R"(,"apply","{version}"],
        "set_weight":[)" +
           sh + R"(,"set-weight","{weight}"],"promote":[)" + sh +
           R"(,"promote","{version}"],
        "rollback":[)" +
           sh + R"(,"rollback","{previous_version}"]})" + rollout + "}" + extra + "}";
  }

  tu::ProcessResult Run(const std::string& config, std::vector<std::string> more = {}) {
    testing::Spit(dir_.path() + "/cfg.json", config);
    std::remove((dir_.path() + "/rec.txt").c_str());
    tu::StagehostCall call;
    call.args = {"run",         "deploy", "--workspace", ws_,
                 "--artifacts", out(),    "--config",    dir_.path() + "/cfg.json"};
    call.args.insert(call.args.end(), more.begin(), more.end());
    call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
    call.env = {{"DEPLOY_SIGNING_KEY", key_pem_},
                {"CI_COMMIT_REF_PROTECTED", "true"},
                {"CI_COMMIT_REF_NAME", "main"},
                {"REC", dir_.path() + "/rec.txt"},
                {"REC_DIR", dir_.path()}};
    call.timeout = std::chrono::seconds(60);
    tu::ProcessResult r = RunStagehost(call);
    ExpectNoSecret(r);
    return r;
  }

  // The private key never reaches stdout, stderr or a report: neither the PEM nor its body.
  void ExpectNoSecret(const tu::ProcessResult& r) {
    const std::string body = key_pem_.substr(key_pem_.find('\n') + 1, 40);
    ASSERT_GT(body.size(), 30u);
    for (const std::string* s : {&r.out, &r.err}) {
      EXPECT_EQ(s->find("PRIVATE KEY"), std::string::npos) << *s;
      EXPECT_EQ(s->find(body), std::string::npos) << *s;
    }
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(out(), ec)) {
      if (!e.is_regular_file()) continue;
      const std::string text = tu::ReadFile(e.path().string());
      EXPECT_EQ(text.find("PRIVATE KEY"), std::string::npos) << e.path();
      EXPECT_EQ(text.find(body), std::string::npos) << e.path();
    }
  }

  std::string out() const { return dir_.path() + "/out"; }
  nlohmann::json RunRecord() {
    return nlohmann::json::parse(tu::ReadFile(out() + "/stagehost-run.json"));
  }
  std::string Recorded() {
    const std::string p = dir_.path() + "/rec.txt";
    return tu::FileExists(p) ? tu::ReadFile(p) : "";
  }
  DeployState State() {
    return DeployState::FromJson(
        nlohmann::json::parse(tu::ReadFile(ws_ + "/.stagehost/deploy-staging.json")));
  }

  tu::TempDir dir_;
  std::string ws_, key_pem_;
};

TEST(DeployInspect, DescribesThePluginAndItsSchema) {
  tu::StagehostCall call;
  call.args = {"plugins", "inspect", "deploy", "--json"};
  call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
  tu::ProcessResult r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  const nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["name"], "deploy");
  EXPECT_EQ(info["stage"], "deploy");
  EXPECT_EQ(info["version"], "0.1.0");
  EXPECT_TRUE(info["supports_request_cancel"].get<bool>());
  const nlohmann::json& props = info["config_schema"]["properties"];
  for (const char* key : {"publish", "signing", "verify", "rollout", "analysis", "on_unfinished"})
    EXPECT_TRUE(props.contains(key)) << key;
  EXPECT_EQ(info["config_schema"]["additionalProperties"], false);
  EXPECT_EQ(info["path"].get<std::string>().substr(info["path"].get<std::string>().size() - 9),
            "deploy.so");
}

TEST_F(DeployE2E, DeployPassesAndAnnouncesEveryReport) {
  tu::ProcessResult r = Run(Config("v1", "direct"));
  ASSERT_HOST_SURVIVED(r);
  ASSERT_EQ(r.exit_code, 0) << r.Describe() << r.out;
  EXPECT_CONTAINS(r.out, "v1 deployed to staging");
  const nlohmann::json record = RunRecord();
  EXPECT_EQ(record["status"], "passed");
  EXPECT_EQ(record["outputs"]["version"], "v1");
  EXPECT_EQ(record["outputs"]["outcome"], "succeeded");
  std::map<std::string, nlohmann::json> announced;
  for (const nlohmann::json& a : record["artifacts"]) announced[a["path"]] = a;
  for (const char* f : {"deploy-record.json", "deploy.env", "deploy-junit.xml", "provenance.json",
                        "provenance.json.sig", "provenance.intoto.jsonl", "provenance.pub.pem",
                        "provenance.pub.json"}) {
    ASSERT_TRUE(announced.count(f)) << f << " not announced: " << record["artifacts"].dump(2);
    EXPECT_EQ(announced[f]["sha256"], tu::Sha256FileHex(out() + "/" + f)) << f;
  }
  EXPECT_EQ(announced["deploy-record.json"]["media_type"], "application/json");
  const std::string digest = tu::Sha256FileHex(ws_ + "/model/model.json");
  EXPECT_TRUE(tu::FileExists(ws_ + "/store/model/sha256/" + digest + "/model.json"));
  EXPECT_TRUE(tu::FileExists(ws_ + "/store/model/versions/v1.json"));
  EXPECT_EQ(Recorded(), "apply v1\nset-weight 100\npromote v1\n");
  EXPECT_EQ(State().phase, Phase::kDone);
  EXPECT_EQ(State().live_version, "v1");
}

TEST_F(DeployE2E, BreachRollsBackAndExitsOne) {
  ASSERT_EQ(Run(Config("v1", "direct")).exit_code, 0);
  const std::string health =
      R"(,"analysis":{"interval_seconds":0,"count":1,"health_checks":[{"name":"model","url":"http://127.0.0.1:)" +
      std::to_string(testutil::FreeLoopbackPort()) + R"(/healthz","timeout_seconds":0.5}]})";
  tu::ProcessResult r =
      Run(Config("v2", "canary", R"(,"steps":[{"weight":25},{"weight":100}])", health));
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe() << r.out;
  EXPECT_CONTAINS(r.out + r.err, "rolled back to v1: canary 25%: health model failed");
  EXPECT_EQ(Recorded(), "apply v2\nset-weight 25\nrollback v1\n");
  const nlohmann::json record = RunRecord();
  EXPECT_EQ(record["status"], "failed");
  EXPECT_EQ(record["outputs"]["outcome"], "failed");
  EXPECT_EQ(record["artifacts"].size(), 9u) << record["artifacts"].dump(2);
  EXPECT_EQ(State().phase, Phase::kRolledBack);
  EXPECT_EQ(State().live_version, "v1");
  EXPECT_CONTAINS(tu::ReadFile(out() + "/deploy-junit.xml"), "<failure");
}

TEST_F(DeployE2E, FailedRollbackIsAnInfraErrorExitTwo) {
  ASSERT_EQ(Run(Config("v1", "direct")).exit_code, 0);
  testing::Spit(dir_.path() + "/apply.fail", "3");
  testing::Spit(dir_.path() + "/rollback.fail", "4");
  tu::ProcessResult r = Run(Config("v2", "direct"));
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe() << r.out;
  EXPECT_CONTAINS(r.out + r.err, "FAILED TO ROLL BACK");
  EXPECT_CONTAINS(r.out + r.err, "rollback refused by the target");
  EXPECT_EQ(Recorded(), "apply v2\nrollback v1\n");
  const nlohmann::json record = RunRecord();
  EXPECT_EQ(record["status"], "infra_error");
  EXPECT_EQ(record["exit_code"], 2);
  EXPECT_CONTAINS(record["message"].get<std::string>(), "FAILED TO ROLL BACK");
  EXPECT_EQ(record["outputs"]["outcome"], "rollback-failed");
  EXPECT_EQ(State().phase, Phase::kRollbackFailed);
  EXPECT_EQ(State().version, "v2");
  // The record of what happened is announced even though the stage has no verdict.
  bool has_record = false;
  for (const nlohmann::json& a : record["artifacts"])
    has_record |= a["path"] == "deploy-record.json";
  EXPECT_TRUE(has_record) << record["artifacts"].dump(2);
}

TEST_F(DeployE2E, UnknownKeyIsRefusedByTheSchema) {
  std::string cfg = Config("v1", "direct");
  cfg.replace(cfg.find("\"environment\""), 13, "\"enviroment\"");
  tu::ProcessResult r = Run(cfg);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.out + r.err, "unknown key \"enviroment\"");
  EXPECT_EQ(RunRecord()["status"], "bad_config");
  EXPECT_CONTAINS(RunRecord()["message"].get<std::string>(), "schema");
  EXPECT_EQ(Recorded(), "");
  EXPECT_FALSE(tu::FileExists(out() + "/deploy-record.json"));
  EXPECT_FALSE(tu::FileExists(ws_ + "/store"));
}

TEST_F(DeployE2E, TimeoutDuringACanaryPauseStopsThereAndTheNextRunRefuses) {
  ASSERT_EQ(Run(Config("v1", "direct")).exit_code, 0);
  const auto start = std::chrono::steady_clock::now();
  tu::ProcessResult r =
      Run(Config("v2", "canary", R"(,"steps":[{"weight":10,"pause_seconds":120},{"weight":100}])"),
          {"--timeout", "3"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30));
  EXPECT_EQ(r.exit_code, 1) << r.Describe() << r.out;
  EXPECT_EQ(RunRecord()["status"], "timeout");
  EXPECT_CONTAINS(RunRecord()["message"].get<std::string>(), "timed out");
  EXPECT_EQ(Recorded(), "apply v2\nset-weight 10\n");
  // The state file says where it stopped; nothing was rolled back behind the operator's back.
  DeployState s = State();
  EXPECT_EQ(s.phase, Phase::kStep);
  EXPECT_EQ(s.weight, 10);
  EXPECT_EQ(s.version, "v2");
  EXPECT_EQ(s.live_version, "v1");

  tu::ProcessResult again = Run(Config("v3", "direct"));
  EXPECT_EQ(again.exit_code, 1) << again.Describe();
  EXPECT_CONTAINS(again.out + again.err, "stopped in phase canary-step at 10%");
  EXPECT_EQ(Recorded(), "");
}

TEST_F(DeployE2E, CancelDuringACanaryPauseIsCancelled) {
  ASSERT_EQ(Run(Config("v1", "direct")).exit_code, 0);
  testing::Spit(
      dir_.path() + "/cfg.json",
      Config("v2", "canary", R"(,"steps":[{"weight":10,"pause_seconds":120},{"weight":100}])"));
  tu::StagehostCall call;
  call.args = {"run",         "deploy", "--workspace", ws_,
               "--artifacts", out(),    "--config",    dir_.path() + "/cfg.json"};
  call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
  call.env = {{"DEPLOY_SIGNING_KEY", key_pem_},
              {"CI_COMMIT_REF_PROTECTED", "true"},
              {"REC", dir_.path() + "/rec.txt"},
              {"REC_DIR", dir_.path()}};
  call.timeout = std::chrono::seconds(60);
  call.signal_after = std::chrono::milliseconds(3000);
  call.signal_number = SIGTERM;
  tu::ProcessResult r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  ExpectNoSecret(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe() << r.out;
  EXPECT_EQ(RunRecord()["status"], "cancelled");
  EXPECT_EQ(State().phase, Phase::kStep);
  EXPECT_EQ(State().weight, 10);
}

// examples/stagehost/deploy.yml as scripts/demo.sh runs it, with its state and store moved to a
// temporary directory (the example keeps them under out/demo).
TEST(DeployExample, ExampleConfigDeploys) {
  tu::TempDir tmp;
  tu::StagehostCall call;
  call.args = {"run",         "deploy",
               "--workspace", STAGEHOST_SOURCE_DIR "/examples",
               "--artifacts", tmp.path() + "/out",
               "--config",    STAGEHOST_SOURCE_DIR "/examples/stagehost/deploy.yml",
               "--set",       "state_file=\"" + tmp.path() + "/state/demo.json\"",
               "--set",       "publish.directory.path=\"" + tmp.path() + "/store\""};
  call.plugin_path = STAGEHOST_BUILD_DIR "/lib/stagehost/plugins";
  const std::string key = Ed25519Key::Generate().PrivatePem();
  call.env = {{"DEPLOY_SIGNING_KEY", key}};
  tu::ProcessResult r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe() << r.out;
  EXPECT_CONTAINS(r.out, "demo-1 deployed to demo");
  EXPECT_EQ((r.out + r.err).find("PRIVATE KEY"), std::string::npos);
  EXPECT_TRUE(tu::FileExists(tmp.path() + "/store/model/versions/demo-1.json"));
  EXPECT_CONTAINS(tu::ReadFile(tmp.path() + "/state/demo.json"), "\"phase\": \"done\"");
}

}  // namespace
}  // namespace stagehost::deploy
