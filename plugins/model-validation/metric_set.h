// metric_set.h -- named metric values in a fixed order, each a number or the reason it is
// undefined.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace stagehost::model_validation {

struct MetricValue {
  std::optional<double> value;
  std::string undefined_reason;  // set when !value
};

// Insertion-ordered, so every report lists metrics in the same order.
class MetricSet {
 public:
  void Set(const std::string& name, double value) { Put(name, MetricValue{value, {}}); }
  void SetUndefined(const std::string& name, std::string reason) {
    Put(name, MetricValue{std::nullopt, std::move(reason)});
  }
  const MetricValue* Find(const std::string& name) const {
    for (const auto& [n, v] : items_) {
      if (n == name) return &v;
    }
    return nullptr;
  }
  const std::vector<std::pair<std::string, MetricValue>>& items() const { return items_; }

 private:
  void Put(const std::string& name, MetricValue v) {
    for (auto& [n, old] : items_) {
      if (n == name) {
        old = std::move(v);
        return;
      }
    }
    items_.emplace_back(name, std::move(v));
  }
  std::vector<std::pair<std::string, MetricValue>> items_;
};

}  // namespace stagehost::model_validation
