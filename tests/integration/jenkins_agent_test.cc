// `stagehost run` inside a Jenkins build: reports default to $WORKSPACE/stagehost-reports/<stage>,
// where ci-templates/jenkins' steps collect them; an explicit --artifacts still wins.
#include <gtest/gtest.h>

#include "testutil/stagehost_cli.h"

namespace stagehost::testutil {
namespace {

TEST(JenkinsAgentTest, ReportsGoUnderWorkspaceWhenRunByJenkins) {
  TempDir tmp;
  // The project is a subfolder of the Jenkins workspace (a `dir('project')` block): without the
  // Jenkins default the reports would land in ws/project/stagehost-reports.
  std::string ws = tmp.Sub("ws");
  std::string project = tmp.Sub("ws/project");
  StagehostCall call;
  call.args = {"run", "good-stage", "--workspace", project};
  call.plugin_path = FixtureDir("good_stage");
  call.cwd = project;
  call.env = {{"WORKSPACE", ws},
              {"JENKINS_URL", "http://jenkins.invalid/"},
              {"BUILD_URL", "http://jenkins.invalid/job/x/1/"}};
  ProcessResult r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(FileExists(ws + "/stagehost-reports/good-stage/stagehost-run.json")) << r.err;
  EXPECT_FALSE(FileExists(project + "/stagehost-reports/good-stage/stagehost-run.json"));

  std::string explicit_dir = tmp.path() + "/mine";
  call.args = {"run", "good-stage", "--workspace", project, "--artifacts", explicit_dir};
  r = RunStagehost(call);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_TRUE(FileExists(explicit_dir + "/stagehost-run.json"));
}

TEST(JenkinsAgentTest, OutsideJenkinsTheDefaultIsUnchanged) {
  TempDir tmp;
  std::string ws = tmp.Sub("ws");
  std::string project = tmp.Sub("ws/project");
  StagehostCall call;
  call.args = {"run", "good-stage", "--workspace", project};
  call.plugin_path = FixtureDir("good_stage");
  call.cwd = project;
  // WORKSPACE alone is not Jenkins (empty values count as unset).
  call.env = {{"WORKSPACE", ws}, {"JENKINS_URL", ""}, {"BUILD_URL", ""}};
  ProcessResult r = RunStagehost(call);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_FALSE(FileExists(ws + "/stagehost-reports/good-stage/stagehost-run.json"));
  EXPECT_TRUE(FileExists(project + "/stagehost-reports/good-stage/stagehost-run.json"));
}

}  // namespace
}  // namespace stagehost::testutil
