// The success path of `stagehost run` and `stagehost plugins`, end to end through the real binary
// with the good_stage fixture (tests/fixture_plugins/good_stage.cc).
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testutil/run_process.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::testutil {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr char kSecret[] = "s3cr3t-value-123";

// Finds, anywhere in `j`, an object for which `match` is true.
const json* FindObject(const json& j, const std::function<bool(const json&)>& match) {
  if (j.is_object() && match(j)) return &j;
  if (j.is_structured()) {
    for (const json& child : j) {
      if (const json* found = FindObject(child, match)) return found;
    }
  }
  return nullptr;
}

// True if `j` holds the good_stage config schema somewhere, as an object or as JSON text.
bool ContainsGoodStageSchema(const json& j) {
  auto is_schema = [](const json& v) {
    return v.is_object() && v.contains("properties") && v["properties"].is_object() &&
           v["properties"].contains("fail") && v["properties"].contains("sleep_ms") &&
           v["properties"]["fail"].value("type", "") == "boolean";
  };
  if (is_schema(j)) return true;
  if (j.is_string()) {
    json parsed = json::parse(j.get<std::string>(), nullptr, /*allow_exceptions=*/false);
    return !parsed.is_discarded() && is_schema(parsed);
  }
  if (j.is_structured()) {
    for (const json& child : j) {
      if (ContainsGoodStageSchema(child)) return true;
    }
  }
  return false;
}

class StageRun : public ::testing::Test {
 protected:
  ProcessResult Run(const std::string& stage, std::vector<std::string> extra = {},
                    StagehostCall call = {}) {
    call.args = {"run", stage, "--workspace", workspace_, "--artifacts", artifacts_};
    call.args.insert(call.args.end(), extra.begin(), extra.end());
    if (call.plugin_path.empty()) call.plugin_path = FixtureDir("good_stage");
    if (call.cwd.empty()) call.cwd = tmp_.path();
    return RunStagehost(call);
  }

  ProcessResult Plugins(std::vector<std::string> args) {
    StagehostCall call;
    call.args = std::move(args);
    call.args.insert(call.args.begin(), "plugins");
    call.plugin_path = FixtureDir("good_stage");
    call.cwd = tmp_.path();
    return RunStagehost(call);
  }

  json RunRecord() const {
    std::string path = artifacts_ + "/stagehost-run.json";
    if (!FileExists(path)) {
      ADD_FAILURE() << "no " << path;
      return json::object();
    }
    try {
      return json::parse(ReadFile(path));
    } catch (const std::exception& e) {
      ADD_FAILURE() << path << " is not JSON: " << e.what();
      return json::object();
    }
  }

  TempDir tmp_;
  std::string workspace_ = tmp_.Sub("workspace");
  std::string artifacts_ = tmp_.Sub("artifacts");
};

TEST_F(StageRun, GoodStagePassesAndRecordsTheRun) {
  ProcessResult r = Run("good-stage");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: hello from good_stage") << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: passed");
  // stagehost's own messages are on stderr only, each line starting "stagehost: ".
  EXPECT_EQ(r.out.find("stagehost: "), std::string::npos) << r.out;

  const std::string report = artifacts_ + "/report.xml";
  ASSERT_TRUE(FileExists(report));
  json record = RunRecord();
  EXPECT_EQ(record.value("status", ""), "passed") << record.dump(2);
  EXPECT_EQ(record.value("exit_code", -1), 0) << record.dump(2);
  ASSERT_TRUE(record.contains("plugin") && record["plugin"].is_object()) << record.dump(2);
  EXPECT_EQ(record["plugin"].value("name", ""), "good-stage");
  EXPECT_EQ(record["plugin"].value("version", ""), "1.2.3");
  EXPECT_EQ(record["plugin"].value("sha256", ""), Sha256FileHex(FixturePath("good_stage")));

  ASSERT_TRUE(record.contains("artifacts") && record["artifacts"].is_array()) << record.dump(2);
  ASSERT_EQ(record["artifacts"].size(), 1u) << record.dump(2);
  const json& artifact = record["artifacts"][0];
  std::string contents = ReadFile(report);
  EXPECT_EQ(artifact.value("path", ""), "report.xml");
  EXPECT_EQ(artifact.value("name", ""), "JUnit report");
  EXPECT_EQ(artifact.value("media_type", ""), "application/xml");
  EXPECT_EQ(artifact.value("size", -1LL), static_cast<long long>(contents.size()));
  EXPECT_EQ(artifact.value("sha256", ""), Sha256Hex(contents));

  ASSERT_TRUE(record.contains("outputs") && record["outputs"].is_object()) << record.dump(2);
  EXPECT_EQ(record["outputs"].value("greeting", json()), json("hello")) << record.dump(2);
  EXPECT_EQ(record["outputs"].value("tests", json()), json(1)) << record.dump(2);
}

TEST_F(StageRun, GoodStageFailsWhenConfiguredTo) {
  ProcessResult r = Run("good-stage", {"--set", "fail=true"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: failing as configured") << r.Describe();
  json record = RunRecord();
  EXPECT_EQ(record.value("status", ""), "failed") << record.dump(2);
  EXPECT_EQ(record.value("exit_code", -1), 1) << record.dump(2);
}

TEST_F(StageRun, StagehostSetOverridesTheConfigAndSetFlagsWinOverIt) {
  // How a CI variable or a component input sets keys: one KEY=VALUE per line.
  StagehostCall call;
  call.env["STAGEHOST_SET"] = "# from the pipeline\nmessage=from STAGEHOST_SET\nfail=true\n";
  ProcessResult failing =
      Run("good-stage", {"--config", R"({"message": "from config", "fail": false})"}, call);
  ASSERT_HOST_SURVIVED(failing);
  EXPECT_EQ(failing.exit_code, 1) << failing.Describe();
  EXPECT_CONTAINS(failing.out, "good-stage: message: from STAGEHOST_SET") << failing.Describe();

  ProcessResult flag_wins = Run("good-stage", {"--set", "fail=false"}, call);
  ASSERT_HOST_SURVIVED(flag_wins);
  EXPECT_EQ(flag_wins.exit_code, 0) << flag_wins.Describe();

  call.env["STAGEHOST_SET"] = "message=ok\nfail";
  ProcessResult bad = Run("good-stage", {}, call);
  ASSERT_HOST_SURVIVED(bad);
  EXPECT_EQ(bad.exit_code, 2) << bad.Describe();
  EXPECT_CONTAINS(bad.err, "STAGEHOST_SET line 2 \"fail\": expected KEY=VALUE") << bad.Describe();
  EXPECT_EQ(bad.out.find("good-stage: hello"), std::string::npos) << "the plugin ran: " << bad.out;
}

TEST_F(StageRun, ConfigFromInlineJsonAndYamlFile) {
  ProcessResult inline_json = Run("good-stage", {"--config", R"({"message": "from inline json"})"});
  ASSERT_HOST_SURVIVED(inline_json);
  EXPECT_EQ(inline_json.exit_code, 0) << inline_json.Describe();
  EXPECT_CONTAINS(inline_json.out, "good-stage: message: from inline json");

  std::string yaml = tmp_.path() + "/stage.yaml";
  WriteFile(yaml, "message: from a yaml file\nfail: false\n");
  ProcessResult from_file = Run("good-stage", {"--config", yaml});
  ASSERT_HOST_SURVIVED(from_file);
  EXPECT_EQ(from_file.exit_code, 0) << from_file.Describe();
  EXPECT_CONTAINS(from_file.out, "good-stage: message: from a yaml file");
}

TEST_F(StageRun, MaskEnvHidesTheSecretEverywhere) {
  StagehostCall call;
  call.env["FIXTURE_SECRET"] = kSecret;
  ProcessResult unmasked = Run("good-stage", {}, call);
  ASSERT_HOST_SURVIVED(unmasked);
  ASSERT_EQ(unmasked.exit_code, 0) << unmasked.Describe();
  ASSERT_NE((unmasked.out + unmasked.err).find(kSecret), std::string::npos)
      << "good_stage should log the secret when it is not masked\n"
      << unmasked.Describe();

  ProcessResult r = Run("good-stage", {"--mask-env", "FIXTURE_SECRET"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.find(kSecret), std::string::npos) << "secret on stdout";
  EXPECT_EQ(r.err.find(kSecret), std::string::npos) << "secret on stderr";
  EXPECT_CONTAINS(r.out + r.err, "[MASKED]") << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: the secret is [MASKED]") << r.Describe();
  std::string record = ReadFile(artifacts_ + "/stagehost-run.json");
  EXPECT_EQ(record.find(kSecret), std::string::npos) << "secret in stagehost-run.json";
}

TEST_F(StageRun, SelectsThePluginByStageType) {
  ProcessResult r = Run("unit-test");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: hello from good_stage") << r.Describe();
  EXPECT_EQ(RunRecord()["plugin"].value("name", ""), "good-stage");
}

TEST_F(StageRun, EarlierPluginPathEntryWinsForAStageType) {
  // Both fixtures implement unit-test; the folder named first wins, as with PATH, and the user is
  // told what was shadowed.
  StagehostCall call;
  call.plugin_path = FixtureDir("abi_minor_older_short") + ":" + FixtureDir("good_stage");
  ProcessResult r = Run("unit-test", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(RunRecord()["plugin"].value("name", ""), "abi-minor-older-short") << r.Describe();
  EXPECT_CONTAINS(r.err, "note: good-stage") << r.Describe();

  call.plugin_path = FixtureDir("good_stage") + ":" + FixtureDir("abi_minor_older_short");
  r = Run("unit-test", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(RunRecord()["plugin"].value("name", ""), "good-stage") << r.Describe();
}

TEST_F(StageRun, TwoPluginsForAStageInOneFolderAreAmbiguous) {
  std::string folder = tmp_.Sub("plugins");
  CopyFile(FixturePath("good_stage"), folder + "/good_stage.so");
  CopyFile(FixturePath("abi_minor_older_short"), folder + "/abi_minor_older_short.so");
  StagehostCall call;
  call.plugin_path = folder;
  ProcessResult r = Run("unit-test", {}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "several plugins in one folder implement stage unit-test") << r.Describe();
  EXPECT_CONTAINS(r.err, "--plugin") << r.Describe();

  r = Run("unit-test", {"--plugin", "good-stage"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(RunRecord()["plugin"].value("name", ""), "good-stage") << r.Describe();
}

TEST_F(StageRun, CancelDuringSdkStageIsPrompt) {
  StagehostCall call;
  call.signal_after = 500ms;
  call.signal_number = SIGTERM;
  ProcessResult r = Run("good-stage", {"--set", "sleep_ms=20000"}, call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "cancelled") << r.Describe();
  EXPECT_LT(r.wall, 2000ms) << r.Describe();
}

TEST_F(StageRun, PluginsListJsonIncludesDigest) {
  ProcessResult r = Plugins({"list", "--json"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  json list = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(list.is_discarded()) << "not JSON:\n" << r.out;
  const json* good = FindObject(
      list, [](const json& o) { return o.contains("name") && o["name"] == "good-stage"; });
  ASSERT_NE(good, nullptr) << list.dump(2);
  EXPECT_EQ(good->value("sha256", ""), Sha256FileHex(FixturePath("good_stage"))) << good->dump(2);
  EXPECT_EQ(good->value("version", ""), "1.2.3") << good->dump(2);
}

TEST_F(StageRun, PluginsInspectJsonIncludesTheSchema) {
  ProcessResult r = Plugins({"inspect", "good-stage", "--json"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  json info = json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(info.is_discarded()) << "not JSON:\n" << r.out;
  EXPECT_TRUE(ContainsGoodStageSchema(info)) << info.dump(2);
  const json* good = FindObject(
      info, [](const json& o) { return o.contains("name") && o["name"] == "good-stage"; });
  EXPECT_NE(good, nullptr) << info.dump(2);
}

TEST_F(StageRun, PluginsInspectMarkdownTablesTheSchema) {
  ProcessResult r = Plugins({"inspect", "good-stage", "--markdown"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.rfind("## good-stage\n", 0), 0u) << r.out;
  EXPECT_CONTAINS(r.out, "| key | type | default | description | required |");
  EXPECT_CONTAINS(r.out, "| `fail` | boolean |");
  EXPECT_CONTAINS(r.out, "| `sleep_ms` |");
  // Nothing machine-specific: docs/stages.md is compared byte for byte with a fresh one.
  EXPECT_EQ(r.out.find(FixturePath("good_stage")), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(Sha256FileHex(FixturePath("good_stage"))), std::string::npos) << r.out;

  ProcessResult both = Plugins({"inspect", "good-stage", "--markdown", "--json"});
  EXPECT_NE(both.exit_code, 0) << both.Describe();
}

TEST_F(StageRun, RunAfterACrashWorks) {
  StagehostCall crash;
  crash.plugin_path = FixtureDir("segv_in_run");
  ProcessResult crashed = Run("segv-in-run", {}, crash);
  ASSERT_HOST_SURVIVED(crashed);
  EXPECT_EQ(crashed.exit_code, 2) << crashed.Describe();
  EXPECT_CONTAINS(crashed.err, "plugin crashed: SIGSEGV") << crashed.Describe();

  ProcessResult r = Run("good-stage");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_CONTAINS(r.out, "good-stage: hello from good_stage") << r.Describe();
  EXPECT_EQ(RunRecord().value("status", ""), "passed");
}

}  // namespace
}  // namespace stagehost::testutil
