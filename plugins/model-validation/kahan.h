// kahan.h -- compensated (Neumaier) summation, so sums over millions of rows stay exact to ~1 ulp.
#pragma once

#include <cmath>

namespace stagehost::model_validation {

class KahanSum {
 public:
  void Add(double x) {
    double t = sum_ + x;
    comp_ += std::fabs(sum_) >= std::fabs(x) ? (sum_ - t) + x : (x - t) + sum_;
    sum_ = t;
  }
  double value() const { return sum_ + comp_; }

 private:
  double sum_ = 0;
  double comp_ = 0;
};

}  // namespace stagehost::model_validation
