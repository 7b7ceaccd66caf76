// regression.cc -- regression metrics as scikit-learn 1.2 defines them (see README).
#include "regression.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace stagehost::model_validation {

void RegressionAccumulator::Add(double y, double y_pred, double w) {
  ++rows_;
  weight_.Add(w);
  const double e = y_pred - y;
  abs_err_.Add(w * std::fabs(e));
  sq_err_.Add(w * e * e);
  // mean_absolute_percentage_error: |e| / max(|y|, float64 eps).
  pct_err_.Add(w * std::fabs(e) / std::max(std::fabs(y), std::numeric_limits<double>::epsilon()));
  if (w != 0) {
    wsum_ += w;
    const double delta = y - mean_;
    mean_ += (w / wsum_) * delta;
    m2_ += w * delta * (y - mean_);
  }
}

MetricSet RegressionAccumulator::Finish(nlohmann::ordered_json& details) const {
  MetricSet m;
  const double w = weight_.value();
  details["rows"] = rows_;
  details["weight_sum"] = w;
  details["label_mean"] = mean_;
  const double mse = sq_err_.value() / w;
  m.Set("mae", abs_err_.value() / w);
  m.Set("mse", mse);
  m.Set("rmse", std::sqrt(mse));
  if (rows_ < 2) {
    m.SetUndefined("r2", "R² needs at least two rows");
  } else {
    // r2_score with force_finite=True: 1.0 for a perfect fit of constant labels, 0.0 for an
    // imperfect one.
    const double num = sq_err_.value(), den = m2_;
    double r2;
    if (den != 0) {
      r2 = 1 - num / den;
    } else {
      r2 = num == 0 ? 1.0 : 0.0;
    }
    m.Set("r2", r2);
  }
  m.Set("mape", pct_err_.value() / w);
  return m;
}

}  // namespace stagehost::model_validation
