// test_helpers.h -- shared helpers of the model-validation tests: configs, files, tolerances.
#pragma once

#include <gtest/gtest.h>
#include <stagehost/stage.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "config.h"
#include "result.h"

namespace stagehost::model_validation::testing {

inline void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Relative agreement within `rel` (absolute 1e-15 for values at zero).
inline ::testing::AssertionResult Near(const std::string& what, double actual, double expected,
                                       double rel = 1e-9) {
  const double tol = std::max(std::fabs(expected) * rel, 1e-15);
  if (std::fabs(actual - expected) <= tol) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << what << ": got " << actual << ", expected " << expected << " (relative error "
         << std::fabs(actual - expected) / std::fabs(expected) << ")";
}

inline double Metric(const MetricSet& m, const std::string& name) {
  const MetricValue* v = m.Find(name);
  if (v == nullptr) ADD_FAILURE() << "metric " << name << " missing";
  if (v && !v->value) ADD_FAILURE() << "metric " << name << " undefined: " << v->undefined_reason;
  return v && v->value ? *v->value : std::nan("");
}

// Runs Validate() on a JSON config in `dir`; BadConfig propagates.
inline ValidationResult RunJson(const std::string& dir, const std::string& config_json) {
  return Validate(ParseConfig(nlohmann::json::parse(config_json)), dir);
}

// The message of the BadConfig that `fn` throws, or "" when it throws none.
template <typename Fn>
std::string BadConfigMessage(Fn fn) {
  try {
    fn();
  } catch (const sdk::BadConfig& e) {
    return e.what();
  }
  return "";
}

}  // namespace stagehost::model_validation::testing
