// DriverConfig: the custom executor driver's own settings, from a TOML file.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "util/child_process.h"
#include "util/status.h"

namespace stagehost::gitlab {

struct DriverConfig {
  // Each job gets <builds_dir>/job-<CI_JOB_ID>/ with builds/ (the checkout) and tmp/ in it.
  std::filesystem::path builds_dir = "/var/lib/stagehost/builds";
  // Shared by the jobs of this runner; gitlab-runner keys caches by project inside it.
  std::filesystem::path cache_dir = "/var/lib/stagehost/cache";
  bool keep_builds = false;  // cleanup leaves the job's directory (for debugging)
  std::string shell = "bash";
  // Our own SIGTERM -> SIGKILL grace for the job's processes, well inside gitlab-runner's
  // graceful_kill_timeout, so no process of the job survives the driver.
  std::chrono::milliseconds kill_grace{10000};
  ChildLimits limits;
  // The stage plugin run after build_script when the job sets STAGEHOST_STAGE.
  std::chrono::milliseconds stage_timeout{0};  // 0 = the job's own timeout is the limit
  uint64_t stage_log_limit = 100ull << 20;
};

// Reads the TOML file at `path`; with no path, STAGEHOST_CUSTOM_CONFIG, then
// /etc/stagehost/custom-executor.toml if it exists, then the defaults. Unknown keys are errors.
Result<DriverConfig> LoadDriverConfig(const std::optional<std::filesystem::path>& path);

}  // namespace stagehost::gitlab
