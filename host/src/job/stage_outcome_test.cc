// The single mapping from stage status to exit code.
#include "job/stage_outcome.h"

#include <gtest/gtest.h>

namespace stagehost {
namespace {

TEST(StageOutcome, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(StageStatus::kPassed), 0);
  EXPECT_EQ(ExitCodeFor(StageStatus::kFailed), 1);
  EXPECT_EQ(ExitCodeFor(StageStatus::kBadConfig), 2);
  EXPECT_EQ(ExitCodeFor(StageStatus::kTimeout), 1);
  EXPECT_EQ(ExitCodeFor(StageStatus::kCancelled), 2);
  EXPECT_EQ(ExitCodeFor(StageStatus::kPluginError), 2);
  EXPECT_EQ(ExitCodeFor(StageStatus::kInfraError), 2);
  EXPECT_EQ(ExitCodeFor(StageStatus::kHostError), 2);
}

TEST(StageOutcome, PluginStatusesMapOneToOne) {
  EXPECT_EQ(FromPluginStatus(STAGEHOST_OK), StageStatus::kPassed);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_STAGE_FAILED), StageStatus::kFailed);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_BAD_CONFIG), StageStatus::kBadConfig);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_PLUGIN_ERROR), StageStatus::kPluginError);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_INFRA_ERROR), StageStatus::kInfraError);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_CANCELLED), StageStatus::kCancelled);
  EXPECT_EQ(FromPluginStatus(STAGEHOST_TIMEOUT), StageStatus::kTimeout);
  EXPECT_EQ(FromPluginStatus(static_cast<stagehost_status>(42)), StageStatus::kPluginError);
}

TEST(StageOutcome, HostErrorsAreSystemFailures) {
  EXPECT_EQ(ExitCodeFor(FromHostStatus(InvalidConfig("x"))), 2);
  EXPECT_EQ(ExitCodeFor(FromHostStatus(PermissionDenied("x"))), 2);
  EXPECT_EQ(ExitCodeFor(FromHostStatus(NotFound("x"))), 2);
  EXPECT_EQ(ExitCodeFor(FromHostStatus(Unavailable("x"))), 2);
}

}  // namespace
}  // namespace stagehost
