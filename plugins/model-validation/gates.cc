// gates.cc -- metric gates: absolute bounds and change limits against the baseline.
#include <stagehost/stage.h>

#include <cmath>
#include <limits>

#include "result.h"

namespace stagehost::model_validation {
namespace {

using sdk::BadConfig;

const char* DirectionWord(Direction d) {
  return d == Direction::kHigherIsBetter ? "higher is better" : "lower is better";
}

// The baseline's value of `metric` (of slice `group` when set), if it has a number.
std::optional<double> BaselineValue(const ValidationResult& r, const std::string& metric,
                                    const std::string& group) {
  if (!r.baseline_loaded) return std::nullopt;
  const nlohmann::json* metrics = &r.baseline["metrics"];
  if (!group.empty()) {
    const auto& slices = r.baseline["slices"];
    auto it = slices.find(group);
    if (it == slices.end() || !it->contains("metrics")) return std::nullopt;
    metrics = &(*it)["metrics"];
  }
  auto it = metrics->find(metric);
  if (it == metrics->end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}

void AddGateChecks(const GateConfig& gate, const MetricSet& metrics, const std::string& group,
                   ValidationResult& r, const RunHooks& hooks, std::size_t index) {
  const std::string where = group.empty() ? gate.metric : gate.metric + "[" + group + "]";
  const MetricValue* mv = metrics.Find(gate.metric);
  if (mv == nullptr || !mv->value) {
    throw BadConfig("gates[" + std::to_string(index) + "]: metric " + where + " is undefined" +
                    (mv ? ": " + mv->undefined_reason : " for this input") +
                    " (remove the gate or fix the input)");
  }
  const double v = *mv->value;
  auto base = [&](const std::string& kind, const std::string& default_name) {
    Check c;
    c.kind = kind;
    c.subject = gate.metric;
    c.group = group;
    c.value = v;
    c.name = gate.name.empty() ? default_name
                               : gate.name + (group.empty() ? "" : " [" + group + "]") +
                                     (kind == "baseline" ? " (vs baseline)" : "");
    return c;
  };
  if (gate.min) {
    Check c = base("bound", where + " >= " + FormatNumber(*gate.min));
    c.limit = gate.min;
    if (v >= *gate.min) {
      c.message = where + " = " + FormatNumber(v) + " >= " + FormatNumber(*gate.min);
    } else {
      c.status = Check::Status::kFailed;
      c.message = where + " = " + FormatNumber(v) + " is below the minimum " +
                  FormatNumber(*gate.min) + " by " + FormatNumber(*gate.min - v);
    }
    r.checks.push_back(std::move(c));
  }
  if (gate.max) {
    Check c = base("bound", where + " <= " + FormatNumber(*gate.max));
    c.limit = gate.max;
    if (v <= *gate.max) {
      c.message = where + " = " + FormatNumber(v) + " <= " + FormatNumber(*gate.max);
    } else {
      c.status = Check::Status::kFailed;
      c.message = where + " = " + FormatNumber(v) + " is above the maximum " +
                  FormatNumber(*gate.max) + " by " + FormatNumber(v - *gate.max);
    }
    r.checks.push_back(std::move(c));
  }
  if (!gate.max_worsening && !gate.max_relative_worsening) return;
  const std::optional<double> b = BaselineValue(r, gate.metric, group);
  const double worsening = b ? (gate.direction == Direction::kHigherIsBetter ? *b - v : v - *b) : 0;
  auto skipped = [&](Check& c) {
    c.status = Check::Status::kSkipped;
    c.message = r.baseline_loaded ? "the baseline has no value for " + where
                                  : "no baseline (" + r.baseline_path + " not found)";
    if (r.baseline_loaded) hooks.warn("model-validation: " + c.name + ": " + c.message);
  };
  if (gate.max_worsening) {
    Check c = base("baseline", where + " worsens by at most " + FormatNumber(*gate.max_worsening) +
                                   " vs baseline (" + DirectionWord(gate.direction) + ")");
    c.limit = gate.max_worsening;
    c.baseline = b;
    if (!b) {
      skipped(c);
    } else {
      const std::string facts = where + " = " + FormatNumber(v) + ", baseline " + FormatNumber(*b) +
                                ", worsening " + FormatNumber(worsening) + " (" +
                                DirectionWord(gate.direction) + ")";
      if (worsening <= *gate.max_worsening) {
        c.message = facts + " <= " + FormatNumber(*gate.max_worsening);
      } else {
        c.status = Check::Status::kFailed;
        c.message = facts + " exceeds the limit " + FormatNumber(*gate.max_worsening) + " by " +
                    FormatNumber(worsening - *gate.max_worsening);
      }
    }
    r.checks.push_back(std::move(c));
  }
  if (gate.max_relative_worsening) {
    Check c = base("baseline", where + " worsens by at most " +
                                   FormatNumber(*gate.max_relative_worsening * 100) +
                                   " % vs baseline (" + DirectionWord(gate.direction) + ")");
    c.limit = gate.max_relative_worsening;
    c.baseline = b;
    if (!b) {
      skipped(c);
    } else {
      // Relative worsening = worsening / |baseline|; with a zero baseline any worsening is
      // infinitely large and any improvement infinitely small.
      double rel;
      if (*b != 0) {
        rel = worsening / std::fabs(*b);
      } else {
        rel = worsening == 0 ? 0.0
                             : std::copysign(std::numeric_limits<double>::infinity(), worsening);
      }
      const std::string facts = where + " = " + FormatNumber(v) + ", baseline " + FormatNumber(*b) +
                                ", relative worsening " + FormatNumber(rel * 100) + " % (" +
                                DirectionWord(gate.direction) + ")";
      if (rel <= *gate.max_relative_worsening) {
        c.message = facts + " <= " + FormatNumber(*gate.max_relative_worsening * 100) + " %";
      } else {
        c.status = Check::Status::kFailed;
        c.message = facts + " exceeds the limit " +
                    FormatNumber(*gate.max_relative_worsening * 100) + " % by " +
                    FormatNumber((rel - *gate.max_relative_worsening) * 100) + " points";
      }
    }
    r.checks.push_back(std::move(c));
  }
}

}  // namespace

void EvaluateGates(const Config& config, ValidationResult& r, const RunHooks& hooks) {
  for (std::size_t i = 0; i < config.gates.size(); ++i) {
    const GateConfig& gate = config.gates[i];
    if (!gate.group) {
      AddGateChecks(gate, r.metrics, "", r, hooks, i);
      continue;
    }
    bool found = false;
    for (const Slice& s : r.slices) {
      if (*gate.group == "*" || *gate.group == s.group) {
        found = true;
        AddGateChecks(gate, s.metrics, s.group, r, hooks, i);
      }
    }
    if (!found) {
      throw BadConfig("gates[" + std::to_string(i) + "].group \"" + *gate.group +
                      "\": no such slice in column " +
                      config.predictions.group_column.value_or(""));
    }
  }
}

}  // namespace stagehost::model_validation
