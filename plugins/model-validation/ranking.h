// ranking.h -- exact ROC AUC and average precision of one binary problem from kept scores.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace stagehost::model_validation {

// Scores of the positive and the negative rows, kept apart. Memory: 8 bytes per row (16 with
// weights). Compute() sorts them and walks the distinct thresholds from the highest down, which
// is exactly scikit-learn's _binary_clf_curve: ties form one threshold (one trapezoid for ROC,
// one precision/recall point for average precision), and zero-weight rows are ignored.
class ScoreBag {
 public:
  void Add(double score, double weight, bool weighted) {
    if (!weighted) {
      plain_.push_back(score);
    } else if (weight != 0) {
      weighted_.emplace_back(score, weight);
    }
  }
  // Moves (not copies) other's scores in.
  void Append(ScoreBag&& other);
  // Sorts ascending (radix sort for the plain case); idempotent.
  void Sort();
  double TotalWeight() const;
  std::size_t bytes() const {
    return plain_.capacity() * sizeof(double) + weighted_.capacity() * sizeof(weighted_[0]);
  }

  std::vector<double> plain_;                        // unweighted: weight 1 each
  std::vector<std::pair<double, double>> weighted_;  // (score, weight)
  bool sorted_ = false;
};

struct RankingResult {
  double roc_auc = 0;
  double average_precision = 0;
};

// ROC AUC (trapezoids over tie groups) and average precision
// AP = sum_n (R_n - R_{n-1}) P_n. REQUIRES: both bags sorted and each of positive weight.
RankingResult ComputeRanking(const ScoreBag& positives, const ScoreBag& negatives);

// Sorts doubles ascending (LSD radix on the IEEE-754 bits; all values finite).
void RadixSortDoubles(std::vector<double>& v);

}  // namespace stagehost::model_validation
