// regression.h -- streaming accumulator of MAE, MSE, RMSE, R² and MAPE, matching scikit-learn.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "kahan.h"
#include "metric_set.h"

namespace stagehost::model_validation {

// Constant memory: a handful of compensated sums and a weighted running mean/variance of the
// labels (West's algorithm, so R²'s denominator needs no second pass and does not cancel).
class RegressionAccumulator {
 public:
  void Add(double y, double y_pred, double w);
  MetricSet Finish(nlohmann::ordered_json& details) const;
  std::uint64_t rows() const { return rows_; }

 private:
  std::uint64_t rows_ = 0;
  KahanSum weight_, abs_err_, sq_err_, pct_err_;
  double mean_ = 0, m2_ = 0, wsum_ = 0;  // West's weighted mean and sum of squared deviations
};

}  // namespace stagehost::model_validation
