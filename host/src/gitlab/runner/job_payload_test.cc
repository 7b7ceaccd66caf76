// JobPayload: parsing GitLab's 201 body and the failure_reason mapping.
#include "gitlab/runner/job_payload.h"

#include <gtest/gtest.h>

namespace stagehost::gitlab {
namespace {

TEST(JobPayloadTest, ParsesWhatTheRunnerUsesAndLastVariableWins) {
  auto body = nlohmann::json::parse(R"({"id":42,"token":"glcbt-abc",
    "job_info":{"name":"test","stage":"build","project_id":4,"project_full_path":"grp/demo"},
    "runner_info":{"timeout":0},
    "variables":[{"key":"A","value":"1","public":true},{"key":"S","value":"s3cr3t-value","masked":true},
                 {"key":"A","value":"2","public":true},{"key":"F","value":"x","file":true}],
    "steps":[{"name":"script","script":["make"],"timeout":60,"when":"","allow_failure":false},
             {"name":"after_script","script":["echo bye"],"timeout":60,"when":"always"}],
    "features":{"trace_sections":true,"token_mask_prefixes":["zz-"],"failure_reasons":["job_canceled"]}})");
  Result<JobPayload> job = ParseJobPayload(body);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->id, 42);
  EXPECT_EQ(job->project_path, "grp/demo");
  EXPECT_EQ(job->timeout.count(), 7200) << "no positive timeout means two hours";
  EXPECT_EQ(job->Variable("A").value_or(""), "2");
  EXPECT_EQ(job->SecretValues(), (std::vector<std::string>{"s3cr3t-value", "glcbt-abc"}));
  ASSERT_NE(job->Step("script"), nullptr);
  EXPECT_EQ(job->Step("script")->when, "on_success");
  EXPECT_EQ(job->Step("after_script")->script[0], "echo bye");
  EXPECT_TRUE(job->variables[3].file);
  EXPECT_EQ(job->token_mask_prefixes[0], "zz-");
}

TEST(JobPayloadTest, RefusesPayloadWithoutIdOrToken) {
  EXPECT_FALSE(ParseJobPayload(nlohmann::json::parse(R"({"token":"t"})")).ok());
  EXPECT_FALSE(ParseJobPayload(nlohmann::json::parse(R"({"id":"1","token":"t"})")).ok());
  EXPECT_FALSE(ParseJobPayload(nlohmann::json::parse(R"({"id":1})")).ok());
}

TEST(JobPayloadTest, FailureReasonsMapToWhatTheServerAccepts) {
  JobPayload job;
  job.failure_reasons = {"job_canceled"};
  EXPECT_EQ(SendableFailureReason(job, ""), "script_failure");
  EXPECT_EQ(SendableFailureReason(job, "job_execution_timeout"), "job_execution_timeout");
  EXPECT_EQ(SendableFailureReason(job, "job_canceled"), "job_canceled");
  job.failure_reasons.clear();
  EXPECT_EQ(SendableFailureReason(job, "job_canceled"), "unknown_failure");
  EXPECT_EQ(SendableFailureReason(job, "image_pull_failure"), "runner_system_failure");
  EXPECT_EQ(SendableFailureReason(job, "runner_configuration_error"), "script_failure");
}

TEST(JobPayloadTest, VariableReferencesExpandOnceLikeGitlabRunner) {
  JobPayload job;
  job.variables = {{"REF", "main"},
                   {"PATHS", "out/$REF/${REF}.zip"},
                   {"LOOP", "$LOOP-x"},
                   {"REF", "release"}};                                 // the last value wins
  EXPECT_EQ(ExpandJobVariables("$PATHS", job), "out/$REF/${REF}.zip");  // one level only
  EXPECT_EQ(ExpandJobVariables("a-$REF-${REF}-$MISSING-end", job), "a-release-release--end");
  EXPECT_EQ(ExpandJobVariables("$LOOP", job), "$LOOP-x");
  // Not references: a '$' before a space or at the end stays.
  EXPECT_EQ(ExpandJobVariables("cost $ and $", job), "cost $ and $");
}

}  // namespace
}  // namespace stagehost::gitlab
