// RunnerConfig: gitlab-runner-shaped TOML read, written with 0600, errors with lines.
#include "gitlab/runner/runner_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;

fs::path Write(const std::string& name, const std::string& text, mode_t mode = 0600) {
  fs::path file = fs::path(::testing::TempDir()) / name;
  std::ofstream(file) << text;
  ::chmod(file.c_str(), mode);
  return file;
}

TEST(RunnerConfigTest, ReadsGitlabRunnerKeysAndOurs) {
  fs::path file = Write("runner-ok.toml", R"(
concurrent = 8
check_interval = 1.5
[[runners]]
name = "a"
url = "https://gitlab.example.com/"
token = "glrt-xyz"
limit = 2
output_limit = 100
executor = "stagehost"
environment = ["A=1", "B=two"]
[runners.stagehost]
timestamps = false
final_update_horizon_seconds = 10
[[runners]]
name = "b"
url = "http://127.0.0.1:1"
token = "glrt-2"
)");
  Result<RunnerConfig> config = LoadRunnerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->concurrent, 8u);
  EXPECT_EQ(config->check_interval.count(), 1500);
  ASSERT_EQ(config->runners.size(), 2u);
  EXPECT_EQ(config->runners[0].limit, 2u);
  EXPECT_EQ(config->runners[0].output_limit_kib, 100u);
  EXPECT_FALSE(config->runners[0].timestamps);
  EXPECT_EQ(config->runners[0].final_update_horizon.count(), 10000);
  EXPECT_EQ(config->runners[0].environment, (std::vector<std::string>{"A=1", "B=two"}));
  EXPECT_EQ(config->runners[1].builds_dir, fs::absolute(file).parent_path() / "builds");
  EXPECT_TRUE(config->runners[1].timestamps);
}

TEST(RunnerConfigTest, ReportsEveryProblemWithItsLine) {
  fs::path file = Write("runner-bad.toml",
                        "concurrent = -1\nbogus = 1\n[[runners]]\nurl = 5\ntoken = \"glrt-1\"\n"
                        "executor = \"docker\"\n");
  Result<RunnerConfig> config = LoadRunnerConfig(file);
  ASSERT_FALSE(config.ok());
  const std::string& message = config.status().message();
  EXPECT_NE(message.find(":1: concurrent"), std::string::npos) << message;
  EXPECT_NE(message.find(":2: bogus: unknown key"), std::string::npos) << message;
  EXPECT_NE(message.find(":4: runners[0].url"), std::string::npos) << message;
  EXPECT_NE(message.find("executor"), std::string::npos) << message;
}

TEST(RunnerConfigTest, RefusesAFileOthersCanRead) {
  fs::path file =
      Write("runner-open.toml", "[[runners]]\nurl=\"http://x\"\ntoken=\"glrt-1\"\n", 0644);
  Result<RunnerConfig> config = LoadRunnerConfig(file);
  ASSERT_FALSE(config.ok());
  EXPECT_EQ(config.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(config.status().message().find("chmod 600"), std::string::npos);
}

TEST(RunnerConfigTest, AddRunnerWritesMode0600AndReplacesTheSameRunner) {
  fs::path file = fs::path(::testing::TempDir()) / "runner-add" / "config.toml";
  fs::remove_all(file.parent_path());
  RunnerEntry entry;
  entry.name = "one";
  entry.url = "http://127.0.0.1:9";
  entry.token = "glrt-secret";
  entry.id = 7;
  ASSERT_TRUE(AddRunnerToConfig(file, entry).ok());
  entry.name = "renamed";
  ASSERT_TRUE(AddRunnerToConfig(file, entry).ok());
  RunnerEntry other = entry;
  other.token = "glrt-other";
  ASSERT_TRUE(AddRunnerToConfig(file, other).ok());
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Result<RunnerConfig> config = LoadRunnerConfig(file);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ASSERT_EQ(config->runners.size(), 2u);
  EXPECT_EQ(config->runners[0].name, "renamed");
  EXPECT_EQ(config->runners[0].id, 7);
  EXPECT_EQ(config->runners[1].token, "glrt-other");
}

// The commented template users copy must stay loadable, every key in it known.
TEST(RunnerConfigTest, TheShippedTemplateLoads) {
  std::ifstream in(fs::path(STAGEHOST_SOURCE_DIR) /
                   "ci-templates/gitlab/runner/native-runner.config.toml");
  ASSERT_TRUE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  // The commented-out metrics address is part of what a user switches on.
  size_t at = body.find("# listen_address");
  ASSERT_NE(at, std::string::npos);
  body.erase(at, 2);
  Result<RunnerConfig> config = LoadRunnerConfig(Write("template.toml", body));
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->listen_address, "127.0.0.1:9252");
  EXPECT_EQ(config->status_checks_per_second, 20u);
  ASSERT_EQ(config->runners.size(), 1u);
  EXPECT_EQ(config->runners[0].cache_dir, "/var/cache/stagehost");
}

}  // namespace
}  // namespace stagehost::gitlab
