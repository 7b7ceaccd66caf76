// result.h -- what one validation produced: metrics, slices, drift, model facts and checks.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config.h"
#include "metric_set.h"

namespace stagehost::model_validation {

// One pass/fail decision: one JUnit test case, one row of the summary's checks table.
struct Check {
  enum class Status { kPassed, kFailed, kSkipped };
  std::string name;     // "accuracy >= 0.9", "drift psi sepal_length <= 0.25"
  std::string kind;     // "bound", "baseline", "drift", "model"
  std::string subject;  // metric or feature
  std::string group;    // slice, or empty
  std::optional<double> value, limit, baseline;
  Status status = Status::kPassed;
  std::string message;  // the verdict with the numbers, e.g. "0.88 < 0.9 (short by 0.02)"
};

struct Slice {
  std::string group;
  MetricSet metrics;
  nlohmann::ordered_json details;
};

struct ValidationResult {
  Task task = Task::kClassification;
  std::string predictions_path;
  MetricSet metrics;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();
  std::vector<Slice> slices;
  std::string baseline_path;  // empty: no baseline
  bool baseline_loaded = false;
  nlohmann::json baseline;       // the baseline file's "metrics" and "slices"
  nlohmann::ordered_json drift;  // null: no drift section
  nlohmann::ordered_json model;  // null: no model section
  std::vector<Check> checks;
  std::size_t score_bytes = 0;

  int failed() const {
    int n = 0;
    for (const auto& c : checks) n += c.status == Check::Status::kFailed ? 1 : 0;
    return n;
  }
};

// Hooks into the host: warnings for the log, and a poll for cancellation (throws to stop).
struct RunHooks {
  std::function<void(const std::string&)> warn = [](const std::string&) {};
  std::function<void()> check_cancelled = [] {};
  std::function<void(unsigned permille, const std::string&)> progress = [](unsigned,
                                                                           const std::string&) {};
};

// Runs the whole validation for `config`, with paths relative to `workspace`. Throws
// sdk::BadConfig for unusable input (naming file, line and column).
ValidationResult Validate(const Config& config, const std::string& workspace,
                          const RunHooks& hooks = {});

// Parts of Validate(), each adding its checks to `result`.
void ComputePredictionMetrics(const Config& config, const std::string& workspace,
                              ValidationResult& result, const RunHooks& hooks);
void LoadBaseline(const Config& config, const std::string& workspace, ValidationResult& result,
                  const RunHooks& hooks);
void EvaluateGates(const Config& config, ValidationResult& result, const RunHooks& hooks);
void RunDrift(const DriftConfig& drift, const std::string& workspace, ValidationResult& result,
              const RunHooks& hooks);
void CheckModel(const ModelConfig& model, const std::string& workspace, ValidationResult& result);

// Formats a metric value for messages and Markdown: up to 6 significant digits.
std::string FormatNumber(double v);

// Resolves `path` against `workspace` (absolute paths are kept).
std::string ResolvePath(const std::string& workspace, const std::string& path);

}  // namespace stagehost::model_validation
