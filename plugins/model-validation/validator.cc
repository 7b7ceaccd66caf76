// validator.cc -- one streaming pass over the predictions, per-slice accumulators, the baseline.
#include <stagehost/stage.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "classification.h"
#include "regression.h"
#include "result.h"
#include "table_reader.h"

namespace stagehost::model_validation {
namespace {

using sdk::BadConfig;

// Raw label text -> canonical label, for the few distinct texts a label column usually holds:
// avoids parsing "1" as a number on every row.
class LabelCache {
 public:
  const std::string& Get(std::string_view raw) {
    for (auto& [r, canonical] : entries_) {
      if (r == raw) return canonical;
    }
    if (entries_.size() < 64) {
      entries_.emplace_back(std::string(raw), CanonicalLabel(raw));
      return entries_.back().second;
    }
    scratch_ = CanonicalLabel(raw);
    return scratch_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
  std::string scratch_;
};

// The accumulators of one slice (or of the whole file).
struct Accumulators {
  std::unique_ptr<ClassificationAccumulator> classification;
  std::unique_ptr<RegressionAccumulator> regression;
};

}  // namespace

std::string FormatNumber(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string ResolvePath(const std::string& workspace, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(workspace) / p).string();
}

void ComputePredictionMetrics(const Config& config, const std::string& workspace,
                              ValidationResult& result, const RunHooks& hooks) {
  const PredictionsConfig& pc = config.predictions;
  result.task = pc.task;
  result.predictions_path = pc.path;
  auto reader =
      TableReader::Open(ResolvePath(workspace, pc.path), pc.path, pc.format, pc.delimiter);
  const std::size_t label_i = reader->ColumnIndex(pc.label_column, "label_column");
  std::optional<std::size_t> pred_i, weight_i, group_i;
  const auto& columns = reader->columns();
  const bool argmax_fallback =
      pc.prediction_column_defaulted && !pc.probability_columns.empty() &&
      std::find(columns.begin(), columns.end(), *pc.prediction_column) == columns.end();
  if (!argmax_fallback) {
    pred_i = reader->ColumnIndex(*pc.prediction_column, "prediction_column");
  }
  if (pc.weight_column) weight_i = reader->ColumnIndex(*pc.weight_column, "weight_column");
  if (pc.group_column) group_i = reader->ColumnIndex(*pc.group_column, "group_column");

  ClassificationOptions opt;
  std::vector<std::size_t> prob_i;
  if (pc.probability_column) {
    opt.probabilities = ClassificationOptions::Probabilities::kSingle;
    prob_i.push_back(reader->ColumnIndex(*pc.probability_column, "probability_column"));
  } else if (!pc.probability_columns.empty()) {
    opt.probabilities = ClassificationOptions::Probabilities::kPerClass;
    for (const auto& [cls, col] : pc.probability_columns) {
      opt.probability_classes.push_back(cls);
      prob_i.push_back(reader->ColumnIndex(col, "probability_columns." + cls));
    }
  }
  opt.positive_label = pc.positive_label;
  opt.ece_bins = config.ece_bins;
  opt.log_loss_eps = config.log_loss_eps;
  opt.weighted = weight_i.has_value();
  opt.max_classes = config.max_classes;

  auto make = [&] {
    Accumulators a;
    if (pc.task == Task::kClassification) {
      a.classification = std::make_unique<ClassificationAccumulator>(opt);
    } else {
      a.regression = std::make_unique<RegressionAccumulator>();
    }
    return a;
  };
  Accumulators all = make();
  std::map<std::string, Accumulators> slices;

  LabelCache labels, predictions;
  std::vector<double> probs(prob_i.size());
  std::string argmax_label;
  std::uint64_t rows = 0;
  while (reader->Next()) {
    if ((++rows & 0x3FFFF) == 0) {
      hooks.check_cancelled();
      hooks.progress(100, "read " + std::to_string(rows) + " rows");
    }
    double w = 1;
    if (weight_i) {
      w = reader->Number(*weight_i);
      if (w < 0) throw BadConfig(reader->Where(*weight_i) + ": negative weight " + FormatNumber(w));
    }
    Accumulators* slice = nullptr;
    if (group_i) {
      std::string g(reader->Field(*group_i));
      auto it = slices.find(g);
      if (it == slices.end()) {
        if (slices.size() >= config.max_groups) {
          throw BadConfig(reader->Where(*group_i) + ": more than metrics.max_groups=" +
                          std::to_string(config.max_groups) + " distinct slices");
        }
        it = slices.emplace(g, make()).first;
      }
      slice = &it->second;
    }
    if (pc.task == Task::kRegression) {
      const double y = reader->Number(label_i), y_pred = reader->Number(*pred_i);
      all.regression->Add(y, y_pred, w);
      if (slice) slice->regression->Add(y, y_pred, w);
      continue;
    }
    for (std::size_t k = 0; k < prob_i.size(); ++k) {
      const double p = reader->Number(prob_i[k]);
      if (p < 0 || p > 1) {
        throw BadConfig(reader->Where(prob_i[k]) + ": probability " + FormatNumber(p) +
                        " is outside [0, 1]");
      }
      probs[k] = p;
    }
    const std::string& label = labels.Get(reader->Field(label_i));
    if (label.empty()) throw BadConfig(reader->Where(label_i) + ": empty label (missing value)");
    const std::string* pred;
    if (pred_i) {
      pred = &predictions.Get(reader->Field(*pred_i));
      if (pred->empty()) {
        throw BadConfig(reader->Where(*pred_i) + ": empty prediction (missing value)");
      }
    } else {
      // The class of the highest probability, first on ties (numpy.argmax).
      std::size_t top = 0;
      for (std::size_t k = 1; k < probs.size(); ++k) {
        if (probs[k] > probs[top]) top = k;
      }
      pred = &opt.probability_classes[top];
    }
    const double* p = probs.empty() ? nullptr : probs.data();
    for (ClassificationAccumulator* acc :
         {all.classification.get(), slice ? slice->classification.get() : nullptr}) {
      if (!acc) continue;
      switch (acc->Add(label, *pred, p, w)) {
        case ClassificationAccumulator::RowError::kOk:
          break;
        case ClassificationAccumulator::RowError::kTooManyClasses:
          throw BadConfig(reader->Where(label_i) +
                          ": more than metrics.max_classes=" + std::to_string(config.max_classes) +
                          " distinct labels; is this a regression task (predictions.task)?");
        case ClassificationAccumulator::RowError::kNoProbabilityColumn: {
          std::string have;
          for (const auto& c : opt.probability_classes) have += (have.empty() ? "" : ", ") + c;
          throw BadConfig(reader->Where(label_i) + ": label \"" + label +
                          "\" has no probability column (probability_columns has " + have + ")");
        }
      }
    }
  }
  if (rows == 0) throw BadConfig(pc.path + ": no data rows after the header");
  hooks.check_cancelled();

  auto finish = [&](Accumulators& a, nlohmann::ordered_json& details) {
    if (a.regression) return a.regression->Finish(details);
    return a.classification->Finish(details);
  };
  double weight_check = 0;
  if (all.classification) result.score_bytes = all.classification->score_bytes();
  for (auto& [g, a] : slices) {
    if (a.classification) result.score_bytes += a.classification->score_bytes();
  }
  hooks.progress(500, "computing metrics over " + std::to_string(rows) + " rows");
  result.metrics = finish(all, result.details);
  weight_check = result.details.value("weight_sum", 0.0);
  if (!(weight_check > 0)) {
    throw BadConfig(pc.path + ": every weight in column \"" + pc.weight_column.value_or("") +
                    "\" is zero");
  }
  for (auto& [g, a] : slices) {
    Slice s{g, {}, nlohmann::ordered_json::object()};
    nlohmann::ordered_json d;
    if (a.classification && a.classification->rows() > 0) {
      s.metrics = finish(a, s.details);
    } else if (a.regression) {
      s.metrics = finish(a, s.details);
    }
    if (!(s.details.value("weight_sum", 0.0) > 0)) {
      hooks.warn("model-validation: slice \"" + g +
                 "\" has zero total weight; its metrics are "
                 "undefined");
    }
    result.slices.push_back(std::move(s));
  }
}

void LoadBaseline(const Config& config, const std::string& workspace, ValidationResult& result,
                  const RunHooks& hooks) {
  if (!config.baseline_path) return;
  result.baseline_path = *config.baseline_path;
  const std::string path = ResolvePath(workspace, *config.baseline_path);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (config.baseline_required) {
      throw BadConfig("baseline.path " + *config.baseline_path +
                      ": cannot open (baseline.required is true)");
    }
    hooks.warn("model-validation: no baseline at " + *config.baseline_path +
               "; change gates are skipped");
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text.str());
  } catch (const nlohmann::json::exception& e) {
    throw BadConfig("baseline.path " + *config.baseline_path + ": invalid JSON: " + e.what());
  }
  if (!j.is_object() || !j.contains("metrics") || !j["metrics"].is_object()) {
    throw BadConfig("baseline.path " + *config.baseline_path +
                    ": not a model-validation result (no \"metrics\" object)");
  }
  result.baseline = {{"metrics", j["metrics"]},
                     {"slices", j.value("slices", nlohmann::json::object())}};
  result.baseline_loaded = true;
}

ValidationResult Validate(const Config& config, const std::string& workspace,
                          const RunHooks& hooks) {
  ValidationResult result;
  ComputePredictionMetrics(config, workspace, result, hooks);
  LoadBaseline(config, workspace, result, hooks);
  EvaluateGates(config, result, hooks);
  if (config.drift) RunDrift(*config.drift, workspace, result, hooks);
  if (config.model) CheckModel(*config.model, workspace, result);
  return result;
}

}  // namespace stagehost::model_validation
