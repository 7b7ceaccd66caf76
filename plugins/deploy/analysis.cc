// analysis.cc -- health and Prometheus measurements and the per-step verdict.
#include "analysis.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "http.h"
#include "sigv4.h"

namespace stagehost::deploy {

namespace {
std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
}  // namespace

Measure MeasureHealth(const HealthCheck& check, const TemplateVars& vars, std::string* detail) {
  HttpRequest get;
  get.url = ExpandTemplate(check.url, vars);
  get.timeout_ms = check.timeout_ms;
  get.connect_timeout_ms = std::min(check.timeout_ms, 5000L);
  HttpResponse r = HttpCall(get);
  if (!r.error.empty()) {
    *detail = RedactUrl(get.url) + ": " + r.error;
    return Measure::kFailure;  // an unreachable service is unhealthy, not unknown
  }
  if (r.status != check.expect_status) {
    *detail = RedactUrl(get.url) + ": HTTP " + std::to_string(r.status) + ", expected " +
              std::to_string(check.expect_status);
    return Measure::kFailure;
  }
  if (!check.body_contains.empty() && r.body.find(check.body_contains) == std::string::npos) {
    *detail = RedactUrl(get.url) + ": body lacks \"" + check.body_contains + "\"";
    return Measure::kFailure;
  }
  *detail = "HTTP " + std::to_string(r.status);
  return Measure::kSuccess;
}

Measure MeasureMetric(const std::string& prometheus_url, const MetricCheck& check,
                      const TemplateVars& vars, std::string* detail) {
  const std::string query = ExpandTemplate(check.query, vars);
  HttpRequest get;
  get.url = prometheus_url + "/api/v1/query?query=" + UriEncode(query, false);
  get.timeout_ms = 10000;
  HttpResponse r = HttpCall(get);
  if (!r.ok()) {
    // Prometheus down or the query rejected: no evidence either way.
    *detail = "Prometheus: " + r.Describe();
    return Measure::kInconclusive;
  }
  try {
    const nlohmann::json j = nlohmann::json::parse(r.body);
    if (j.value("status", "") != "success") {
      *detail = "Prometheus: " + j.value("error", std::string("query failed"));
      return Measure::kInconclusive;
    }
    const nlohmann::json& data = j.at("data");
    const std::string type = data.value("resultType", "");
    std::vector<double> values;
    auto parse = [](const nlohmann::json& pair) {
      const std::string s = pair.at(1).get<std::string>();
      return std::strtod(s.c_str(), nullptr);  // "NaN", "+Inf" parse too
    };
    if (type == "vector") {
      for (const auto& sample : data.at("result")) values.push_back(parse(sample.at("value")));
    } else if (type == "scalar") {
      values.push_back(parse(data.at("result")));
    } else {
      *detail = "Prometheus returned a " + type + ", expected a vector or scalar";
      return Measure::kInconclusive;
    }
    if (values.empty()) {
      *detail = "no data";
      return Measure::kInconclusive;
    }
    std::string shown;
    bool all_hold = true, any_nan = false;
    for (double v : values) {
      if (std::isnan(v))
        any_nan = true;
      else if (!check.condition.Holds(v))
        all_hold = false;
      shown += (shown.empty() ? "" : ", ") + Num(v);
    }
    if (!all_hold) {
      *detail = "result " + shown + " (condition " + check.condition.text() + " not met)";
      return Measure::kFailure;
    }
    if (any_nan) {
      *detail = "result " + shown + " (NaN: no traffic to judge)";
      return Measure::kInconclusive;
    }
    *detail = "result " + shown;
    return Measure::kSuccess;
  } catch (const nlohmann::json::exception& e) {
    *detail = std::string("Prometheus answer unreadable: ") + e.what();
    return Measure::kInconclusive;
  }
}

AnalysisOutcome RunAnalysis(const AnalysisConfig& config, const std::vector<HealthCheck>& health,
                            bool with_metrics, const TemplateVars& vars,
                            const std::function<void(long ms)>& sleep,
                            const std::function<void(const std::string&)>& log) {
  AnalysisOutcome out;
  for (const HealthCheck& h : health) out.checks.push_back({h.name, "health"});
  if (with_metrics) {
    for (const MetricCheck& m : config.metrics) out.checks.push_back({m.name, "metric"});
  }
  if (out.checks.empty()) return out;
  for (int round = 0; round < config.count; ++round) {
    if (round > 0) sleep(config.interval_ms);
    for (size_t i = 0; i < out.checks.size(); ++i) {
      CheckSummary& c = out.checks[i];
      std::string detail;
      const Measure m = i < health.size()
                            ? MeasureHealth(health[i], vars, &detail)
                            : MeasureMetric(config.prometheus_url,
                                            config.metrics[i - health.size()], vars, &detail);
      c.last_detail = detail;
      const char* word = m == Measure::kSuccess   ? "ok"
                         : m == Measure::kFailure ? "FAILED"
                                                  : "inconclusive";
      log("  " + c.kind + " " + c.name + " [" + std::to_string(round + 1) + "/" +
          std::to_string(config.count) + "]: " + word + ": " + detail);
      if (m == Measure::kSuccess) ++c.successes;
      if (m == Measure::kFailure && ++c.failures > config.failure_limit) {
        c.breached = true;
        c.reason = c.kind + " " + c.name + " failed " + std::to_string(c.failures) +
                   " time(s) (limit " + std::to_string(config.failure_limit) + "): " + detail;
      }
      if (m == Measure::kInconclusive && ++c.inconclusive > config.inconclusive_limit) {
        c.reason = c.kind + " " + c.name + " inconclusive " + std::to_string(c.inconclusive) +
                   " time(s) (limit " + std::to_string(config.inconclusive_limit) + "): " + detail;
        c.breached = config.inconclusive_is_breach;
      }
      if (c.breached && !out.breached) {
        out.breached = true;
        out.reason = c.reason;
      }
    }
    // Stop measuring at the first breach: every further second hurts users.
    if (out.breached) break;
  }
  return out;
}

}  // namespace stagehost::deploy
