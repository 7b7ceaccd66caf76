// classification.h -- streaming accumulator of every classification metric, matching scikit-learn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "kahan.h"
#include "metric_set.h"
#include "ranking.h"

namespace stagehost::model_validation {

struct ClassificationOptions {
  enum class Probabilities {
    kNone,      // labels and predictions only
    kSingle,    // one column: the probability of the positive class (binary)
    kPerClass,  // one column per class, in the order of `probability_classes`
  };
  Probabilities probabilities = Probabilities::kNone;
  std::vector<std::string> probability_classes;  // kPerClass: canonical label of each column
  std::optional<std::string> positive_label;     // canonical; default: the greater class
  int ece_bins = 10;
  double log_loss_eps = 2.220446049250313e-16;  // numpy float64 eps, sklearn's "auto"
  bool weighted = false;
  std::size_t max_classes = 1000;
};

// Accumulates one pass of rows. Memory: a confusion matrix and a few sums per class and per ECE
// bin, plus the kept scores for ROC AUC / average precision (see ScoreBag): 8 bytes per row for
// binary (16 with weights), 8*K bytes per row for K > 2 classes.
class ClassificationAccumulator {
 public:
  explicit ClassificationAccumulator(const ClassificationOptions& options);

  // Why a row was refused; the caller adds file, line and column.
  enum class RowError { kOk, kTooManyClasses, kNoProbabilityColumn };

  // `label`, `prediction`: canonical labels. `probs`: the row's probability columns (1 or K
  // values in [0, 1]; nullptr without probabilities). `weight` >= 0.
  RowError Add(const std::string& label, const std::string& prediction, const double* probs,
               double weight);

  // Computes the metrics. Throws BadConfig when the probabilities cannot be interpreted (e.g. a
  // single probability column with more than two classes). `details` receives the confusion
  // matrix, per-class figures and reliability bins.
  MetricSet Finish(nlohmann::ordered_json& details);

  std::uint64_t rows() const { return rows_; }
  std::size_t score_bytes() const;

 private:
  int ClassId(const std::string& name);
  void Grow(std::size_t n);
  int EceBin(double p) const;

  ClassificationOptions opt_;
  std::vector<std::string> names_;
  std::unordered_map<std::string, int> ids_;
  std::uint64_t rows_ = 0;
  KahanSum weight_sum_;

  std::vector<std::vector<double>> confusion_;  // [true][predicted], weighted counts

  // Kept scores: scores_[true class][score column].
  std::vector<std::vector<ScoreBag>> scores_;
  std::size_t score_columns_ = 0;
  int positive_column_ = -1;  // kPerClass with two classes: the column of the positive class

  // Binary modes (kSingle, kPerClass with two classes): sums per true class, because the
  // positive class may be known only at the end.
  std::vector<KahanSum> loss_if_pos_, loss_if_neg_;    // kSingle: -log of p, of 1-p
  std::vector<KahanSum> brier_if_pos_, brier_if_neg_;  // (1-p)^2, p^2
  std::vector<std::vector<double>> bin_class_weight_;  // [bin][true class]
  // Every mode: per-bin weight and confidence sums, and (top-label mode) correct weight.
  std::vector<double> bin_weight_, bin_confidence_, bin_correct_;
  std::vector<double> inner_edges_;
  KahanSum loss_;   // kPerClass: sum of w * -log p_true
  KahanSum brier_;  // kPerClass with K > 2: sum of w * sum_k (p_k - y_k)^2
  bool binary_probs_ = false;
};

// Sorts class names as numpy does for the labels it sees: numerically when every name is a
// number, otherwise by their UTF-8 bytes. Returns the permutation (indices into `names`).
std::vector<int> SortedClassOrder(const std::vector<std::string>& names);

}  // namespace stagehost::model_validation
