// The custom executor driver's four commands; each returns the process exit code.
#pragma once

#include <string>

#include "gitlab/custom/driver_config.h"

namespace stagehost::gitlab {

// config_exec: prints the JSON gitlab-runner parses, and nothing else, on stdout.
int RunConfigCommand(const DriverConfig& config);
// prepare_exec: creates the job's private directories and checks the prerequisites. Idempotent:
// gitlab-runner may call it three times with cleanup in between.
int RunPrepareCommand(const DriverConfig& config);
// run_exec: runs one sub-stage script; after build_script and step_* also the job's stage plugin
// (STAGEHOST_STAGE). `cancel_fd` becomes readable on SIGTERM/SIGINT.
int RunRunCommand(const DriverConfig& config, const std::string& script,
                  const std::string& substage, int cancel_fd);
// cleanup_exec: kills what is left of the job and removes its directories. Never fails the job:
// problems go to stderr, which gitlab-runner writes to its own log.
int RunCleanupCommand(const DriverConfig& config);

}  // namespace stagehost::gitlab
