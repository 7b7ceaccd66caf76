// StageStatus, and the one place that maps a stage's status to a process exit code.
#pragma once

#include <stagehost/plugin_abi.h>

#include <string_view>

#include "util/status.h"

namespace stagehost {

enum class StageStatus {
  kPassed,
  kFailed,       // the project under test failed
  kBadConfig,    // the job's configuration is wrong: the author must fix it
  kTimeout,      // the stage did not finish within --timeout
  kCancelled,    // stopped on request
  kPluginError,  // the plugin broke: refused, crashed, threw
  kInfraError,   // an outside service failed; a retry may help
  kHostError,    // stagehost itself could not carry out the stage
};

// GitLab's custom executor contract: BUILD_FAILURE_EXIT_CODE / SYSTEM_FAILURE_EXIT_CODE.
inline constexpr int kExitPassed = 0;
inline constexpr int kExitStageFailed = 1;
inline constexpr int kExitSystemFailure = 2;

// 0 passed; 1 when the project under test got a failing verdict (it failed, or ran past its
// timeout); 2 when no verdict could be reached: the configuration or input is unusable, the plugin
// or the infrastructure broke, or the run was cancelled. A job's author can then tell "my model
// regressed" from "the pipeline is broken" by the exit code alone.
int ExitCodeFor(StageStatus status);
std::string_view StageStatusName(StageStatus status);
StageStatus FromPluginStatus(stagehost_status status);
// For host Status errors that end a stage before or around the plugin.
StageStatus FromHostStatus(const Status& status);

}  // namespace stagehost
