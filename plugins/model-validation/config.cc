// config.cc -- configuration parsing with defaults, and the semantic checks a schema cannot make.
#include "config.h"

#include <stagehost/stage.h>

namespace stagehost::model_validation {
namespace {

using sdk::BadConfig;
using Json = nlohmann::json;

template <typename T>
std::optional<T> Opt(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

char Delimiter(const Json& j, const std::string& key) {
  std::string d = j.value("delimiter", std::string(","));
  if (d == "\\t" || d == "tab") d = "\t";
  if (d.size() != 1 || d == "\"" || d == "\n") {
    throw BadConfig(key + ".delimiter: must be one character other than a quote or newline");
  }
  return d[0];
}

}  // namespace

const std::vector<std::pair<std::string, Direction>>& KnownMetrics(Task task) {
  using D = Direction;
  static const std::vector<std::pair<std::string, Direction>> kClassification = {
      {"accuracy", D::kHigherIsBetter},
      {"balanced_accuracy", D::kHigherIsBetter},
      {"precision", D::kHigherIsBetter},
      {"recall", D::kHigherIsBetter},
      {"f1", D::kHigherIsBetter},
      {"precision_macro", D::kHigherIsBetter},
      {"recall_macro", D::kHigherIsBetter},
      {"f1_macro", D::kHigherIsBetter},
      {"precision_micro", D::kHigherIsBetter},
      {"recall_micro", D::kHigherIsBetter},
      {"f1_micro", D::kHigherIsBetter},
      {"precision_weighted", D::kHigherIsBetter},
      {"recall_weighted", D::kHigherIsBetter},
      {"f1_weighted", D::kHigherIsBetter},
      {"roc_auc", D::kHigherIsBetter},
      {"average_precision", D::kHigherIsBetter},
      {"log_loss", D::kLowerIsBetter},
      {"brier", D::kLowerIsBetter},
      {"ece", D::kLowerIsBetter},
  };
  static const std::vector<std::pair<std::string, Direction>> kRegression = {
      {"mae", D::kLowerIsBetter}, {"mse", D::kLowerIsBetter},  {"rmse", D::kLowerIsBetter},
      {"r2", D::kHigherIsBetter}, {"mape", D::kLowerIsBetter},
  };
  return task == Task::kClassification ? kClassification : kRegression;
}

Config ParseConfig(const Json& j) {
  Config c;
  if (!j.contains("predictions")) throw BadConfig("predictions: required");
  const Json& p = j.at("predictions");
  PredictionsConfig& pc = c.predictions;
  pc.path = p.at("path").get<std::string>();
  pc.format = ParseTableFormat(p.value("format", std::string("auto")), "predictions.format");
  pc.delimiter = Delimiter(p, "predictions");
  const std::string task = p.value("task", std::string("classification"));
  pc.task = task == "regression" ? Task::kRegression : Task::kClassification;
  pc.label_column = p.value("label_column", std::string("label"));
  pc.prediction_column = Opt<std::string>(p, "prediction_column");
  pc.probability_column = Opt<std::string>(p, "probability_column");
  if (auto it = p.find("probability_columns"); it != p.end()) {
    for (const auto& [cls, col] : it->items()) {
      pc.probability_columns.emplace_back(CanonicalLabel(cls), col.get<std::string>());
    }
  }
  if (auto l = Opt<std::string>(p, "positive_label")) pc.positive_label = CanonicalLabel(*l);
  pc.weight_column = Opt<std::string>(p, "weight_column");
  pc.group_column = Opt<std::string>(p, "group_column");
  if (pc.probability_column && !pc.probability_columns.empty()) {
    throw BadConfig(
        "predictions: probability_column (binary) and probability_columns (one per class) "
        "exclude each other");
  }
  if (pc.task == Task::kRegression &&
      (pc.probability_column || !pc.probability_columns.empty() || pc.positive_label)) {
    throw BadConfig(
        "predictions: probability columns and positive_label apply to classification "
        "only, but task is regression");
  }
  if (!pc.prediction_column) {
    pc.prediction_column = "prediction";
    pc.prediction_column_defaulted = true;
  }

  if (auto it = j.find("metrics"); it != j.end()) {
    c.ece_bins = it->value("ece_bins", 10);
    c.log_loss_eps = it->value("log_loss_eps", c.log_loss_eps);
    c.max_classes = it->value("max_classes", std::size_t{1000});
    c.max_groups = it->value("max_groups", std::size_t{1000});
  }
  c.metrics_prefix = j.value("metrics_prefix", c.metrics_prefix);

  if (auto it = j.find("baseline"); it != j.end()) {
    c.baseline_path = it->at("path").get<std::string>();
    c.baseline_required = it->value("required", false);
  }

  const auto& known = KnownMetrics(pc.task);
  if (auto it = j.find("gates"); it != j.end()) {
    for (std::size_t i = 0; i < it->size(); ++i) {
      const Json& g = (*it)[i];
      const std::string key = "gates[" + std::to_string(i) + "]";
      GateConfig gate;
      gate.metric = g.at("metric").get<std::string>();
      auto m = std::find_if(known.begin(), known.end(),
                            [&](const auto& k) { return k.first == gate.metric; });
      if (m == known.end()) {
        std::string names;
        for (const auto& k : known) names += (names.empty() ? "" : ", ") + k.first;
        throw BadConfig(key + ".metric \"" + gate.metric + "\": not a " + task +
                        " metric; known: " + names);
      }
      gate.direction = m->second;
      if (auto d = Opt<std::string>(g, "direction")) {
        gate.direction = *d == "lower" ? Direction::kLowerIsBetter : Direction::kHigherIsBetter;
      }
      gate.group = Opt<std::string>(g, "group");
      gate.min = Opt<double>(g, "min");
      gate.max = Opt<double>(g, "max");
      gate.max_worsening = Opt<double>(g, "max_worsening");
      gate.max_relative_worsening = Opt<double>(g, "max_relative_worsening");
      gate.name = g.value("name", std::string());
      if (!gate.min && !gate.max && !gate.max_worsening && !gate.max_relative_worsening) {
        throw BadConfig(key +
                        ": give at least one of min, max, max_worsening, "
                        "max_relative_worsening");
      }
      if (gate.min && gate.max && *gate.min > *gate.max) {
        throw BadConfig(key + ": min " + std::to_string(*gate.min) + " is above max " +
                        std::to_string(*gate.max));
      }
      if (gate.group && !pc.group_column) {
        throw BadConfig(key + ".group: set predictions.group_column to gate on slices");
      }
      if ((gate.max_worsening || gate.max_relative_worsening) && !c.baseline_path) {
        throw BadConfig(key +
                        ": max_worsening/max_relative_worsening compare with a baseline; "
                        "set baseline.path");
      }
      c.gates.push_back(std::move(gate));
    }
  }

  if (auto it = j.find("drift"); it != j.end()) {
    const Json& d = *it;
    DriftConfig dc;
    dc.reference = d.at("reference").get<std::string>();
    dc.current = d.at("current").get<std::string>();
    dc.format = ParseTableFormat(d.value("format", std::string("auto")), "drift.format");
    dc.delimiter = Delimiter(d, "drift");
    for (const char* key : {"reference_filter", "current_filter"}) {
      auto& out = std::string(key) == "reference_filter" ? dc.reference_filter : dc.current_filter;
      if (auto f = d.find(key); f != d.end()) {
        for (const auto& [col, val] : f->items()) out.emplace_back(col, val.get<std::string>());
      }
    }
    dc.features = d.value("features", std::vector<std::string>{});
    dc.exclude = d.value("exclude", std::vector<std::string>{});
    dc.categorical = d.value("categorical", std::vector<std::string>{});
    dc.bins = d.value("bins", 10);
    dc.epsilon = d.value("epsilon", 1e-4);
    dc.tests = d.value("tests", dc.tests);
    dc.psi_threshold = d.value("psi_threshold", 0.25);
    dc.ks_p_value = d.value("ks_p_value", 0.05);
    dc.ks_max_statistic = Opt<double>(d, "ks_max_statistic");
    dc.chi2_p_value = d.value("chi2_p_value", 0.05);
    dc.max_drifted_share = Opt<double>(d, "max_drifted_share");
    if (auto o = d.find("overrides"); o != d.end()) {
      for (const auto& [feature, v] : o->items()) {
        DriftOverride ov;
        ov.psi_threshold = Opt<double>(v, "psi_threshold");
        ov.ks_p_value = Opt<double>(v, "ks_p_value");
        ov.ks_max_statistic = Opt<double>(v, "ks_max_statistic");
        ov.chi2_p_value = Opt<double>(v, "chi2_p_value");
        ov.skip = v.value("skip", false);
        dc.overrides[feature] = ov;
      }
    }
    c.drift = std::move(dc);
  }

  if (auto it = j.find("model"); it != j.end()) {
    ModelConfig mc;
    mc.path = it->at("path").get<std::string>();
    mc.max_bytes = Opt<std::uint64_t>(*it, "max_bytes");
    mc.required = it->value("required", true);
    c.model = std::move(mc);
  }
  return c;
}

}  // namespace stagehost::model_validation
