// analysis.h -- measurements at each rollout step: HTTP health checks and Prometheus instant
// queries with success conditions, a failure limit, and inconclusive handling.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "config.h"
#include "template.h"

namespace stagehost::deploy {

enum class Measure { kSuccess, kFailure, kInconclusive };

struct CheckSummary {
  std::string name, kind;  // kind: "health" or "metric"
  int successes = 0, failures = 0, inconclusive = 0;
  std::string last_detail;  // e.g. "result 0.31 (condition result < 0.01 not met)"
  bool breached = false;
  std::string reason;  // why it breached (or the warning when inconclusive is tolerated)
};

struct AnalysisOutcome {
  bool breached = false;
  std::string reason;  // the first breach, for the log and the rollback message
  std::vector<CheckSummary> checks;
};

// One measurement. Exposed for tests.
Measure MeasureHealth(const HealthCheck& check, const TemplateVars& vars, std::string* detail);
Measure MeasureMetric(const std::string& prometheus_url, const MetricCheck& check,
                      const TemplateVars& vars, std::string* detail);

// `count` rounds `interval` apart; stops at the first breach. `sleep` waits and throws on cancel.
AnalysisOutcome RunAnalysis(const AnalysisConfig& config, const std::vector<HealthCheck>& health,
                            bool with_metrics, const TemplateVars& vars,
                            const std::function<void(long ms)>& sleep,
                            const std::function<void(const std::string&)>& log);

}  // namespace stagehost::deploy
