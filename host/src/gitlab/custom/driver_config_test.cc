// Driver configuration: every key read, every problem reported with its line.
#include "gitlab/custom/driver_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace stagehost::gitlab {
namespace {

std::filesystem::path WriteToml(const std::string& text) {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("driver-" + std::to_string(::getpid()) + ".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(DriverConfig, ReadsEveryKey) {
  auto path = WriteToml(
      "builds_dir = \"/b\"\ncache_dir = \"/c\"\nkeep_builds = true\nshell = \"zsh\"\n"
      "kill_grace_seconds = 2.5\n[limits]\nopen_files = 100\nprocesses = 50\nmemory_mib = 64\n"
      "cpu_seconds = 9\ncore_dumps = true\n[stage]\ntimeout_seconds = 30\nlog_limit_bytes = 7\n");
  Result<DriverConfig> config = LoadDriverConfig(path);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->builds_dir, "/b");
  EXPECT_EQ(config->cache_dir, "/c");
  EXPECT_TRUE(config->keep_builds);
  EXPECT_EQ(config->shell, "zsh");
  EXPECT_EQ(config->kill_grace.count(), 2500);
  EXPECT_EQ(config->limits.open_files, 100u);
  EXPECT_EQ(config->limits.processes, 50u);
  EXPECT_EQ(config->limits.memory_bytes, 64u << 20);
  EXPECT_EQ(config->limits.cpu_seconds, 9u);
  EXPECT_TRUE(config->limits.core_dumps);
  EXPECT_EQ(config->stage_timeout.count(), 30000);
  EXPECT_EQ(config->stage_log_limit, 7u);
  std::filesystem::remove(path);
}

TEST(DriverConfig, ReportsEveryProblemWithItsLine) {
  auto path = WriteToml(
      "builds_dir = \"rel\"\nkeep_builds = \"yes\"\n[limits]\nopen_files = -1\ncolour = 2\n");
  Result<DriverConfig> config = LoadDriverConfig(path);
  ASSERT_FALSE(config.ok());
  const std::string& m = config.status().message();
  EXPECT_NE(m.find(":1: builds_dir: must be an absolute path"), std::string::npos) << m;
  EXPECT_NE(m.find(":2: keep_builds: must be true or false"), std::string::npos) << m;
  EXPECT_NE(m.find(":4: limits.open_files"), std::string::npos) << m;
  EXPECT_NE(m.find(":5: limits.colour: unknown key"), std::string::npos) << m;
  std::filesystem::remove(path);
}

TEST(DriverConfig, SyntaxErrorsNameTheLine) {
  auto path = WriteToml("builds_dir = \"/b\"\nthis is not toml\n");
  Result<DriverConfig> config = LoadDriverConfig(path);
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find(":2:"), std::string::npos) << config.status().message();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace stagehost::gitlab
