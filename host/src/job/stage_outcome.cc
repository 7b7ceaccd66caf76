// Stage status names and exit codes.
#include "job/stage_outcome.h"

namespace stagehost {

int ExitCodeFor(StageStatus status) {
  switch (status) {
    case StageStatus::kPassed:
      return kExitPassed;
    case StageStatus::kFailed:
    case StageStatus::kTimeout:
      return kExitStageFailed;
    case StageStatus::kBadConfig:
    case StageStatus::kCancelled:
    case StageStatus::kPluginError:
    case StageStatus::kInfraError:
    case StageStatus::kHostError:
      return kExitSystemFailure;
  }
  return kExitSystemFailure;
}

std::string_view StageStatusName(StageStatus status) {
  switch (status) {
    case StageStatus::kPassed:
      return "passed";
    case StageStatus::kFailed:
      return "failed";
    case StageStatus::kBadConfig:
      return "bad_config";
    case StageStatus::kTimeout:
      return "timeout";
    case StageStatus::kCancelled:
      return "cancelled";
    case StageStatus::kPluginError:
      return "plugin_error";
    case StageStatus::kInfraError:
      return "infra_error";
    case StageStatus::kHostError:
      return "host_error";
  }
  return "host_error";
}

StageStatus FromPluginStatus(stagehost_status status) {
  switch (status) {
    case STAGEHOST_OK:
      return StageStatus::kPassed;
    case STAGEHOST_STAGE_FAILED:
      return StageStatus::kFailed;
    case STAGEHOST_BAD_CONFIG:
      return StageStatus::kBadConfig;
    case STAGEHOST_PLUGIN_ERROR:
      return StageStatus::kPluginError;
    case STAGEHOST_INFRA_ERROR:
      return StageStatus::kInfraError;
    case STAGEHOST_CANCELLED:
      return StageStatus::kCancelled;
    case STAGEHOST_TIMEOUT:
      return StageStatus::kTimeout;
  }
  return StageStatus::kPluginError;
}

StageStatus FromHostStatus(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return StageStatus::kPassed;
    case StatusCode::kInvalidConfig:
      return StageStatus::kBadConfig;
    case StatusCode::kPluginError:
    case StatusCode::kPermissionDenied:
      return StageStatus::kPluginError;
    case StatusCode::kUnavailable:
      return StageStatus::kInfraError;
    case StatusCode::kCancelled:
      return StageStatus::kCancelled;
    case StatusCode::kTimeout:
      return StageStatus::kTimeout;
    default:
      return StageStatus::kHostError;
  }
}

}  // namespace stagehost
