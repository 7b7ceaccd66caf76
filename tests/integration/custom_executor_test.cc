// The custom executor driver called exactly as gitlab-runner calls it: environment,
// JOB_RESPONSE_FILE, 0700 scripts in a per-job temp dir, sub-stage order, exit codes and signals
// (../shared/reference/custom-executor.md).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testutil/stagehost_cli.h"

namespace stagehost::testutil {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr const char* kSecret = "s3cr3t-Value-0042";
constexpr const char* kJobToken = "glcbt-abcdef0123456789";

class CustomExecutor : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(driver_config_, "builds_dir = \"" + tmp_.path() + "/builds\"\n" + "cache_dir = \"" +
                                  tmp_.path() + "/cache\"\n" +
                                  "kill_grace_seconds = 1\n[limits]\nopen_files = 2048\n");
    WriteResponse({});
  }

  // JOB_RESPONSE_FILE as gitlab-runner writes it: the job JSON, mode 0600.
  void WriteResponse(const std::vector<json>& extra_variables, int64_t job_id = 42) {
    job_id_ = job_id;
    json variables = json::array(
        {{{"key", "CI_JOB_TOKEN"}, {"value", kJobToken}, {"public", false}, {"masked", true}},
         {{"key", "DEPLOY_PASSWORD"}, {"value", kSecret}, {"public", false}, {"masked", true}},
         {{"key", "GREETING"}, {"value", "hello"}, {"public", true}}});
    for (const json& v : extra_variables) variables.push_back(v);
    json job = {{"id", job_id},
                {"token", kJobToken},
                {"job_info", {{"name", "test"}, {"stage", "test"}, {"project_id", 4}}},
                {"runner_info", {{"timeout", 3600}}},
                {"variables", variables},
                {"steps", json::array()}};
    WriteFile(response_, job.dump(), 0600);
    extra_env_.clear();
    for (const json& v : variables) {
      extra_env_["CUSTOM_ENV_" + v["key"].get<std::string>()] = v["value"].get<std::string>();
    }
  }

  std::map<std::string, std::string> Environment() const {
    std::map<std::string, std::string> env = extra_env_;
    env["TMPDIR"] = runner_tmp_;
    env["BUILD_FAILURE_EXIT_CODE"] = "1";
    env["SYSTEM_FAILURE_EXIT_CODE"] = "2";
    env["BUILD_EXIT_CODE_FILE"] = exit_code_file_;
    env["JOB_RESPONSE_FILE"] = response_;
    env["STAGEHOST_CUSTOM_CONFIG"] = driver_config_;
    env["CUSTOM_ENV_CI_JOB_ID"] = std::to_string(job_id_);
    env["CUSTOM_ENV_CI_PROJECT_DIR"] = ProjectDir();
    for (const auto& [key, value] : job_env_) env[key] = value;
    return env;
  }

  ProcessResult Driver(std::vector<std::string> args, StagehostCall call = {}) {
    call.args = {"gitlab", "custom"};
    call.args.insert(call.args.end(), args.begin(), args.end());
    call.env = Environment();
    if (call.plugin_path.empty()) call.plugin_path = FixtureDir("good_stage");
    call.cwd = runner_tmp_;
    return RunStagehost(call);
  }

  // config_exec, then its job_env for every later call, as gitlab-runner does.
  json Config() {
    ProcessResult r = Driver({"config"});
    EXPECT_TRUE(r.exited && r.exit_code == 0) << r.Describe();
    json out = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(out.is_object()) << "config stdout is not one JSON document:\n" << r.out;
    if (out.is_object()) {
      for (auto& [key, value] : out["job_env"].items()) job_env_[key] = value.get<std::string>();
      builds_dir_ = out.value("builds_dir", "");
    }
    return out;
  }

  // A sub-stage script the way gitlab-runner writes one: script<random>/script., mode 0700.
  std::string Script(const std::string& body) {
    std::string dir = runner_tmp_ + "/script" + std::to_string(++scripts_);
    ::mkdir(dir.c_str(), 0700);
    std::string path = dir + "/script.";
    WriteFile(path, "#!/usr/bin/env bash\nset -eo pipefail\n" + body + "\n", 0700);
    return path;
  }

  ProcessResult Run(const std::string& substage, const std::string& body, StagehostCall call = {}) {
    return Driver({"run", Script(body), substage}, call);
  }

  std::string ProjectDir() const {
    return builds_dir_.empty() ? tmp_.path() + "/none" : builds_dir_ + "/project";
  }
  std::string BuildExitCode() const {
    return FileExists(exit_code_file_) ? ReadFile(exit_code_file_) : "";
  }
  std::string JobDir() const { return tmp_.path() + "/builds/job-" + std::to_string(job_id_); }

  TempDir tmp_;
  std::string runner_tmp_ = tmp_.Sub("custom-executor1234");
  std::string response_ = runner_tmp_ + "/response.json";
  std::string exit_code_file_ = runner_tmp_ + "/build_exit_code";
  std::string driver_config_ = tmp_.path() + "/driver.toml";
  std::map<std::string, std::string> extra_env_;
  std::map<std::string, std::string> job_env_;
  std::string builds_dir_;
  int64_t job_id_ = 42;
  int scripts_ = 0;
};

TEST_F(CustomExecutor, ConfigPrintsOnlyTheJsonGitlabRunnerParses) {
  json config = Config();
  EXPECT_EQ(config.value("builds_dir", ""), JobDir() + "/builds");
  EXPECT_EQ(config.value("cache_dir", ""), tmp_.path() + "/cache");
  EXPECT_EQ(config.value("builds_dir_is_shared", true), false);
  EXPECT_FALSE(config.value("hostname", "").empty());
  EXPECT_EQ(config["driver"].value("name", ""), "stagehost");
  EXPECT_FALSE(config["driver"].value("version", "").empty());
  EXPECT_EQ(config["job_env"].value("STAGEHOST_JOB_DIR", ""), JobDir());

  // Concurrent jobs get different directories.
  WriteResponse({}, 43);
  job_env_.clear();
  EXPECT_EQ(Config().value("builds_dir", ""), JobDir() + "/builds");
  EXPECT_NE(JobDir(), tmp_.path() + "/builds/job-42");
}

TEST_F(CustomExecutor, EverySubStageOfAPassingJobRuns) {
  Config();
  ProcessResult prepared = Driver({"prepare"});
  ASSERT_HOST_SURVIVED(prepared);
  ASSERT_EQ(prepared.exit_code, 0) << prepared.Describe();
  EXPECT_CONTAINS(prepared.out, "prepared job 42");
  struct stat st;
  ASSERT_EQ(::stat(JobDir().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  // gitlab-runner's order, plus a step_ and a name that does not exist yet: all must run.
  for (const char* substage :
       {"prepare_script", "get_sources", "restore_cache", "download_artifacts", "build_script",
        "step_release", "after_script", "archive_cache", "upload_artifacts_on_success",
        "cleanup_file_variables", "some_future_substage"}) {
    ProcessResult r = Run(substage, std::string("mkdir -p \"$CUSTOM_ENV_CI_PROJECT_DIR\"\n"
                                                "echo \"ran ") +
                                        substage + " in $PWD\"");
    ASSERT_HOST_SURVIVED(r);
    EXPECT_EQ(r.exit_code, 0) << substage << ": " << r.Describe();
    EXPECT_CONTAINS(r.out, std::string("ran ") + substage + " in " + runner_tmp_);
  }
  EXPECT_EQ(BuildExitCode(), "");

  ProcessResult cleaned = Driver({"cleanup"});
  ASSERT_HOST_SURVIVED(cleaned);
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.Describe();
  EXPECT_FALSE(FileExists(JobDir())) << "cleanup left " << JobDir();
}

TEST_F(CustomExecutor, MaskedValuesNeverReachTheLog) {
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  // Written in pieces, so the masker has to hold a partial match across writes.
  ProcessResult r = Run("build_script",
                        "printf 's3cr3t-'; sleep 0.05; printf 'Value-0042 and '\n"
                        "echo \"$CUSTOM_ENV_CI_JOB_TOKEN\"; echo \"$CUSTOM_ENV_GREETING\"");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out.find(kSecret), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(kJobToken), std::string::npos) << r.out;
  EXPECT_CONTAINS(r.out, "[MASKED] and [MASKED]");
  EXPECT_CONTAINS(r.out, "hello");
}

TEST_F(CustomExecutor, AFailingScriptReportsItsRealExitCodeAndAfterScriptStillRuns) {
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  ProcessResult failed = Run("build_script", "echo failing; exit 3");
  ASSERT_HOST_SURVIVED(failed);
  EXPECT_EQ(failed.exit_code, 1) << failed.Describe();  // BUILD_FAILURE_EXIT_CODE
  EXPECT_EQ(BuildExitCode(), "3\n");
  ProcessResult after = Run("after_script", "echo after the failure");
  ASSERT_HOST_SURVIVED(after);
  EXPECT_EQ(after.exit_code, 0) << after.Describe();
  EXPECT_CONTAINS(after.out, "after the failure");
  ProcessResult upload = Run("upload_artifacts_on_failure", "echo uploading");
  EXPECT_EQ(upload.exit_code, 0) << upload.Describe();
}

TEST_F(CustomExecutor, ClearWorktreeBetweenGetSourcesAttempts) {
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  std::string marker = tmp_.path() + "/attempts";
  std::string get_sources = "echo x >> " + marker + "\n[ $(wc -l < " + marker + ") -ge 2 ]";
  EXPECT_EQ(Run("get_sources", get_sources).exit_code, 1);
  EXPECT_EQ(BuildExitCode(), "1\n");
  ProcessResult clear = Run("clear_worktree", "echo clearing worktree");
  EXPECT_EQ(clear.exit_code, 0) << clear.Describe();
  EXPECT_CONTAINS(clear.out, "clearing worktree");
  EXPECT_EQ(Run("get_sources", get_sources).exit_code, 0);
}

TEST_F(CustomExecutor, JobStagePluginRunsAfterBuildScript) {
  WriteResponse({{{"key", "STAGEHOST_STAGE"}, {"value", "good-stage"}, {"public", true}}});
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  ProcessResult r =
      Run("build_script", "mkdir -p \"$CUSTOM_ENV_CI_PROJECT_DIR\"; echo script done");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_LT(r.out.find("script done"), r.out.find("good-stage: hello from good_stage")) << r.out;
  std::string record_path = ProjectDir() + "/stagehost-reports/good-stage/stagehost-run.json";
  ASSERT_TRUE(FileExists(record_path)) << r.Describe();
  json record = json::parse(ReadFile(record_path));
  EXPECT_EQ(record.value("status", ""), "passed");
  EXPECT_EQ(record["artifacts"][0].value("path", ""), "report.xml");

  // after_script is not a step: the plugin does not run again.
  ProcessResult after = Run("after_script", "echo after");
  EXPECT_EQ(after.out.find("good-stage: hello"), std::string::npos) << after.out;
}

// The in-tree unit-test plugin, as a job would use it: the script leaves a JUnit report in the
// project, the stage collects and judges it.
TEST_F(CustomExecutor, InTreeUnitTestStageJudgesTheScriptsReport) {
  std::string in_tree = std::string(STAGEHOST_BUILD_DIR) + "/lib/stagehost/plugins";
  if (!FileExists(in_tree + "/unit_test.so")) GTEST_SKIP() << "unit-test plugin not built";
  WriteResponse({{{"key", "STAGEHOST_STAGE"}, {"value", "unit-test"}, {"public", true}},
                 {{"key", "STAGEHOST_CONFIG"},
                  {"value", R"({"collect_only": true, "junit": ["results.xml"]})"},
                  {"public", true}}});
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  StagehostCall call;
  call.plugin_path = in_tree;
  auto report = [](const char* second_case) {
    return std::string(
               "mkdir -p \"$CUSTOM_ENV_CI_PROJECT_DIR\"\n"
               "cat > \"$CUSTOM_ENV_CI_PROJECT_DIR/results.xml\" <<'XML'\n"
               "<testsuites><testsuite name=\"s\" tests=\"2\">"
               "<testcase classname=\"c\" name=\"a\" time=\"0.1\"/>") +
           second_case + "</testsuite></testsuites>\nXML";
  };
  ProcessResult passed =
      Run("build_script", report("<testcase classname=\"c\" name=\"b\"/>"), call);
  ASSERT_HOST_SURVIVED(passed);
  EXPECT_EQ(passed.exit_code, 0) << passed.Describe();
  EXPECT_TRUE(FileExists(ProjectDir() + "/stagehost-reports/unit-test/junit.xml"))
      << passed.Describe();

  ProcessResult failed = Run(
      "build_script",
      report("<testcase classname=\"c\" name=\"b\"><failure message=\"boom\"/></testcase>"), call);
  ASSERT_HOST_SURVIVED(failed);
  EXPECT_EQ(failed.exit_code, 1) << failed.Describe();
  EXPECT_EQ(BuildExitCode(), "1\n");
}

TEST_F(CustomExecutor, FailingStagePluginIsABuildFailure) {
  WriteResponse(
      {{{"key", "STAGEHOST_STAGE"}, {"value", "good-stage"}, {"public", true}},
       {{"key", "STAGEHOST_CONFIG"}, {"value", "stagehost/good.json"}, {"public", true}}});
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  // STAGEHOST_CONFIG names a file in the project, as the job's author wrote it.
  ProcessResult r =
      Run("build_script",
          "mkdir -p \"$CUSTOM_ENV_CI_PROJECT_DIR/stagehost\"\n"
          "echo '{\"fail\": true}' > \"$CUSTOM_ENV_CI_PROJECT_DIR/stagehost/good.json\"");
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_EQ(BuildExitCode(), "1\n");
  EXPECT_CONTAINS(r.err, "good-stage failed");
}

TEST_F(CustomExecutor, CrashingStagePluginIsASystemFailure) {
  WriteResponse({{{"key", "STAGEHOST_STAGE"}, {"value", "segv-in-run"}, {"public", true}}});
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  StagehostCall call;
  call.plugin_path = FixtureDir("segv_in_run");
  ProcessResult r = Run("build_script", "mkdir -p \"$CUSTOM_ENV_CI_PROJECT_DIR\"", call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();  // SYSTEM_FAILURE_EXIT_CODE: GitLab may retry
  EXPECT_CONTAINS(r.err, "plugin crashed: SIGSEGV");
}

TEST_F(CustomExecutor, SigtermStopsTheWholeJobPromptly) {
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  std::string pids = tmp_.path() + "/pids";
  StagehostCall call;
  call.signal_after = 500ms;
  call.signal_number = SIGTERM;  // to the driver only: it must forward to the job's group
  ProcessResult r = Run("build_script",
                        "trap '' TERM\nsleep 300 & echo $! >> " + pids + "\necho $$ >> " + pids +
                            "\nwhile true; do sleep 0.1; done",
                        call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_LT(r.wall, 4000ms) << "kill_grace_seconds is 1";
  std::ifstream in(pids);
  int count = 0;
  for (long pid; in >> pid; ++count) {
    EXPECT_TRUE(ProcessGone(static_cast<pid_t>(pid), 2000ms)) << "process " << pid << " survived";
  }
  EXPECT_EQ(count, 2);
}

TEST_F(CustomExecutor, CleanupKillsWhatTheJobLeftRunning) {
  Config();
  ASSERT_EQ(Driver({"prepare"}).exit_code, 0);
  std::string pid_file = tmp_.path() + "/daemon";
  ProcessResult r = Run("build_script", "sleep 300 >/dev/null 2>&1 & echo $! > " + pid_file);
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  pid_t daemon = static_cast<pid_t>(std::stol(ReadFile(pid_file)));
  EXPECT_FALSE(ProcessGone(daemon, 0ms)) << "the background process should outlive its step";
  ProcessResult cleaned = Driver({"cleanup"});
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.Describe();
  EXPECT_TRUE(ProcessGone(daemon, 2000ms)) << "cleanup left process " << daemon;
}

TEST_F(CustomExecutor, BadInputIsASystemFailureWithAClearMessage) {
  Config();
  std::filesystem::remove(response_);
  ProcessResult missing = Run("build_script", "true");
  EXPECT_EQ(missing.exit_code, 2) << missing.Describe();
  EXPECT_CONTAINS(missing.err, "cannot read JOB_RESPONSE_FILE");

  WriteFile(response_, "{not json", 0600);
  ProcessResult garbage = Driver({"prepare"});
  EXPECT_EQ(garbage.exit_code, 2) << garbage.Describe();
  EXPECT_CONTAINS(garbage.err, "is not a JSON object");

  WriteFile(driver_config_, "builds_dir = \"relative\"\ncolour = 1\n");
  ProcessResult bad_config = Driver({"config"});
  EXPECT_EQ(bad_config.exit_code, 2) << bad_config.Describe();
  EXPECT_CONTAINS(bad_config.err, "builds_dir: must be an absolute path");
  EXPECT_CONTAINS(bad_config.err, "colour: unknown key");
  EXPECT_TRUE(bad_config.out.empty()) << "config must print nothing but JSON";

  // Cleanup never fails the job, even with nothing to clean.
  ProcessResult cleaned = Driver({"cleanup"});
  EXPECT_EQ(cleaned.exit_code, 0) << cleaned.Describe();
}

TEST_F(CustomExecutor, OutsideGitlabRunnerTheExitCodeVariablesAreRequired) {
  StagehostCall call;
  call.args = {"gitlab", "custom", "prepare"};
  call.env = {{"STAGEHOST_CUSTOM_CONFIG", driver_config_}};
  ProcessResult r = RunStagehost(call);
  EXPECT_EQ(r.exit_code, 2) << r.Describe();
  EXPECT_CONTAINS(r.err, "BUILD_FAILURE_EXIT_CODE");
}

}  // namespace
}  // namespace stagehost::testutil
