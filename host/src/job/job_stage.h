// JobStageOptions: how a CI job's STAGEHOST_STAGE / STAGEHOST_CONFIG become a stage run.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "job/stage_runner.h"
#include "util/status.h"

namespace stagehost {

struct JobStageRequest {
  std::string stage;                  // STAGEHOST_STAGE
  std::string config;                 // STAGEHOST_CONFIG: a path in the project, or inline
  std::filesystem::path project_dir;  // the workspace
  std::vector<std::string> env;       // the job's variables, "KEY=VALUE" (incl. STAGEHOST_SET)
  std::chrono::milliseconds timeout{0};
  std::chrono::milliseconds kill_grace{10000};
  int cancel_fd = -1;
  uint64_t memory_limit_bytes = 0;
};

// Loads the config (a relative path is relative to the project, as the job's author wrote it),
// applies the job's STAGEHOST_SET overrides and fills the options every CI integration uses; the
// process's PATH, HOME, LANG and TMPDIR are passed on. Fails with the config problem, prefixed
// with "STAGEHOST_CONFIG: " or "STAGEHOST_SET line N".
Result<StageRunOptions> JobStageOptions(const JobStageRequest& request);

}  // namespace stagehost
