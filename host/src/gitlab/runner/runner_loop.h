// RunRunner: the native runner's main loop — poll every [[runners]] entry, run jobs, shut down.
#pragma once

#include "gitlab/runner/runner_config.h"

namespace stagehost::gitlab {

struct RunnerOptions {
  bool once = false;  // exit after one job
};

// Signals (gitlab-runner's mapping): SIGQUIT stops polling and waits for running jobs, exit 0;
// SIGTERM/SIGINT abort running jobs, report them failed (runner_system_failure) within
// shutdown_timeout and exit 1; a second SIGTERM/SIGINT stops at once (exit 2).
// With `once`, the exit code is 0 when the job's final state was delivered, 1 otherwise.
int RunRunner(const RunnerConfig& config, const RunnerOptions& options);

}  // namespace stagehost::gitlab
