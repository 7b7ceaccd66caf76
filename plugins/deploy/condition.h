// condition.h -- success conditions of metric analysis: "result < 0.01",
// "result >= 0.95 && result <= 1". Each clause compares the query's value with a number; all
// clauses must hold.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stagehost::deploy {

class Condition {
 public:
  enum class Op { kLt, kLe, kGt, kGe, kEq, kNe };
  struct Clause {
    Op op;
    double value;
  };

  // Throws std::invalid_argument with the position and what was expected.
  static Condition Parse(std::string_view text);

  // NaN never satisfies a condition; callers treat NaN as inconclusive before asking.
  bool Holds(double result) const;
  const std::string& text() const { return text_; }
  const std::vector<Clause>& clauses() const { return clauses_; }

 private:
  std::string text_;
  std::vector<Clause> clauses_;
};

}  // namespace stagehost::deploy
