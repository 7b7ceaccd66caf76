// Tests for JobStageOptions: STAGEHOST_CONFIG relative to the project, STAGEHOST_SET over it.
#include "job/job_stage.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "testutil/stagehost_cli.h"

namespace stagehost {
namespace {

using nlohmann::json;

class JobStageOptionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testutil::WriteFile(temp_.path() + "/stagehost/scan.yml",
                        "fail_on: high\nmax_file_bytes: 100\n");
    request_.stage = "security-scan";
    request_.config = "stagehost/scan.yml";
    request_.project_dir = project_;
  }

  testutil::TempDir temp_;
  std::filesystem::path project_ = temp_.path();
  JobStageRequest request_;
};

TEST_F(JobStageOptionsTest, ConfigIsReadRelativeToTheProject) {
  request_.env = {"CI_JOB_ID=7"};
  Result<StageRunOptions> options = JobStageOptions(request_);
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_EQ(options->config, json::parse(R"({"fail_on": "high", "max_file_bytes": 100})"));
  EXPECT_EQ(options->workspace, project_);
}

TEST_F(JobStageOptionsTest, StagehostSetOverridesTheConfigAndTheLastDefinitionCounts) {
  // A runner-level definition first, the job's own after it: the job's wins, as in an env block.
  request_.env = {"STAGEHOST_SET=fail_on=low", "CI_JOB_ID=7",
                  "STAGEHOST_SET=fail_on=critical\nbaseline=.stagehost-baseline.json"};
  Result<StageRunOptions> options = JobStageOptions(request_);
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_EQ(options->config, json::parse(R"({"fail_on": "critical", "max_file_bytes": 100,
                                             "baseline": ".stagehost-baseline.json"})"));
}

TEST_F(JobStageOptionsTest, StagehostSetWithoutAConfigStartsFromAnEmptyOne) {
  request_.config.clear();
  request_.env = {"STAGEHOST_SET=fail_on=never"};
  Result<StageRunOptions> options = JobStageOptions(request_);
  ASSERT_TRUE(options.ok()) << options.status().message();
  EXPECT_EQ(options->config, json::parse(R"({"fail_on": "never"})"));
}

TEST_F(JobStageOptionsTest, ABadOverrideIsAnErrorNamingTheVariableAndLine) {
  request_.env = {"STAGEHOST_SET=fail_on=low\nfail_on.level=1"};
  Result<StageRunOptions> options = JobStageOptions(request_);
  ASSERT_FALSE(options.ok());
  EXPECT_NE(options.status().message().find("STAGEHOST_SET line 2 \"fail_on.level=1\""),
            std::string::npos)
      << options.status().message();
}

TEST_F(JobStageOptionsTest, AMissingConfigFileIsAnErrorNamingTheVariable) {
  request_.config = "stagehost/missing.yml";
  Result<StageRunOptions> options = JobStageOptions(request_);
  ASSERT_FALSE(options.ok());
  EXPECT_EQ(options.status().message().rfind("STAGEHOST_CONFIG", 0), 0u)
      << options.status().message();
}

}  // namespace
}  // namespace stagehost
