// config.h -- the plugin's configuration, parsed from schema-validated JSON, with defaults applied.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "table_reader.h"

namespace stagehost::model_validation {

enum class Task { kClassification, kRegression };
enum class Direction { kHigherIsBetter, kLowerIsBetter };

struct PredictionsConfig {
  std::string path;
  TableFormat format = TableFormat::kAuto;
  char delimiter = ',';
  Task task = Task::kClassification;
  std::string label_column = "label";
  std::optional<std::string> prediction_column;  // default "prediction"; see plugin README
  bool prediction_column_defaulted = false;      // may fall back to argmax of probabilities
  std::optional<std::string> probability_column;
  std::vector<std::pair<std::string, std::string>> probability_columns;  // (class, column)
  std::optional<std::string> positive_label;
  std::optional<std::string> weight_column;
  std::optional<std::string> group_column;
};

struct GateConfig {
  std::string name;  // shown in reports; default derived from the metric
  std::string metric;
  std::optional<std::string> group;  // a slice value, or "*" for every slice
  std::optional<double> min, max;
  Direction direction = Direction::kHigherIsBetter;
  std::optional<double> max_worsening;           // absolute, in the metric's units
  std::optional<double> max_relative_worsening;  // fraction of |baseline|
};

struct DriftOverride {
  std::optional<double> psi_threshold, ks_p_value, ks_max_statistic, chi2_p_value;
  bool skip = false;
};

struct DriftConfig {
  std::string reference, current;
  TableFormat format = TableFormat::kAuto;
  char delimiter = ',';
  // Only rows whose column equals the value (all pairs) are read: one table can hold both sides.
  std::vector<std::pair<std::string, std::string>> reference_filter, current_filter;
  std::vector<std::string> features;  // empty: every reference column not excluded
  std::vector<std::string> exclude;
  std::vector<std::string> categorical;
  int bins = 10;
  double epsilon = 1e-4;
  std::vector<std::string> tests = {"psi", "ks", "chi2"};
  double psi_threshold = 0.25;
  double ks_p_value = 0.05;
  std::optional<double> ks_max_statistic;
  double chi2_p_value = 0.05;
  std::optional<double> max_drifted_share;
  std::map<std::string, DriftOverride> overrides;
};

struct ModelConfig {
  std::string path;
  std::optional<std::uint64_t> max_bytes;
  bool required = true;
};

struct Config {
  PredictionsConfig predictions;
  int ece_bins = 10;
  double log_loss_eps = 2.220446049250313e-16;
  std::size_t max_classes = 1000;
  std::size_t max_groups = 1000;
  std::optional<std::string> baseline_path;
  bool baseline_required = false;
  std::vector<GateConfig> gates;
  std::optional<DriftConfig> drift;
  std::optional<ModelConfig> model;
  std::string metrics_prefix = "model_";
};

// Parses a configuration the host has validated against kConfigSchema; throws BadConfig for what
// the schema cannot express (unknown metric names, contradicting keys), naming the key.
Config ParseConfig(const nlohmann::json& json);

// Every metric name a gate may use for `task`, and its default direction.
const std::vector<std::pair<std::string, Direction>>& KnownMetrics(Task task);

}  // namespace stagehost::model_validation
