// rollout.h -- the strategies (direct, blue-green, canary) over a Driver, with analysis at each
// step, the state file updated at every phase, and automatic rollback on a breach.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "analysis.h"
#include "config.h"
#include "drivers.h"
#include "state.h"

namespace stagehost::deploy {

struct StepRecord {
  std::string name;  // "canary 25%", "pre-switch", "after switch"
  int weight = 0;
  std::string started_at, finished_at;
  AnalysisOutcome analysis;
  std::string result;  // "passed", "breached", "driver error"
};

enum class RolloutOutcome { kPromoted, kRolledBack, kRollbackFailed, kRefused };

struct RolloutResult {
  RolloutOutcome outcome = RolloutOutcome::kPromoted;
  std::string reason;  // breach or refusal; for kRollbackFailed also the rollback error
  std::string previous_version;
  std::vector<StepRecord> steps;
  bool recovered_unfinished = false;  // an earlier, interrupted rollout was rolled back first
};

struct RolloutEnv {
  std::function<void(const std::string&)> info, warn;
  std::function<void(long ms)> sleep;  // throws on cancel
  // The rest of the placeholders (digest, artifact_url); version/slots are filled in here.
  TemplateVars vars;
};

// Locks and reads the state file, handles an unfinished earlier rollout (refuse, or roll it back
// first when config.rollback_unfinished), then rolls `version` out.
RolloutResult RunRollout(const Config& config, const std::string& version, Driver& driver,
                         StateFile& state_file, const RolloutEnv& env);

}  // namespace stagehost::deploy
