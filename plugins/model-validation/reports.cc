// reports.cc -- serialises a ValidationResult into the four report formats.
#include "reports.h"

#include <charconv>
#include <cmath>
#include <set>
#include <sstream>

namespace stagehost::model_validation {
namespace {

using OJson = nlohmann::ordered_json;

const char* StatusWord(Check::Status s) {
  switch (s) {
    case Check::Status::kPassed:
      return "passed";
    case Check::Status::kFailed:
      return "failed";
    case Check::Status::kSkipped:
      return "skipped";
  }
  return "?";
}

OJson MetricsJson(const MetricSet& m) {
  OJson out = OJson::object();
  for (const auto& [name, v] : m.items()) out[name] = v.value ? OJson(*v.value) : OJson(nullptr);
  return out;
}

OJson UndefinedJson(const MetricSet& m) {
  OJson out = OJson::object();
  for (const auto& [name, v] : m.items()) {
    if (!v.value) out[name] = v.undefined_reason;
  }
  return out;
}

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string LabelEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string MdEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '\\' || c == '`' || c == '*' || c == '_' || c == '<' || c == '>') {
      out += '\\';
    }
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

// OpenMetrics metric names: [a-zA-Z_:][a-zA-Z0-9_:]*.
std::string MetricName(const std::string& prefix, const std::string& name) {
  std::string out = prefix + name;
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != ':') c = '_';
  }
  return out;
}

}  // namespace

std::string ExactNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

OJson ResultJson(const ValidationResult& r, const std::string& plugin_version) {
  OJson j = OJson::object();
  j["plugin"] = "model-validation";
  j["plugin_version"] = plugin_version;
  j["passed"] = r.failed() == 0;
  j["failed_checks"] = r.failed();
  j["task"] = r.task == Task::kClassification ? "classification" : "regression";
  j["predictions"] = r.predictions_path;
  j["metrics"] = MetricsJson(r.metrics);
  j["undefined_metrics"] = UndefinedJson(r.metrics);
  j["details"] = r.details;
  OJson slices = OJson::object();
  for (const Slice& s : r.slices) {
    slices[s.group] = {{"metrics", MetricsJson(s.metrics)},
                       {"undefined_metrics", UndefinedJson(s.metrics)},
                       {"details", s.details}};
  }
  j["slices"] = slices;
  OJson baseline = nullptr;
  OJson deltas = OJson::object();
  if (!r.baseline_path.empty()) {
    baseline = {{"path", r.baseline_path}, {"loaded", r.baseline_loaded}};
    if (r.baseline_loaded) {
      baseline["metrics"] = r.baseline["metrics"];
      for (const auto& [name, v] : r.metrics.items()) {
        auto it = r.baseline["metrics"].find(name);
        if (!v.value || it == r.baseline["metrics"].end() || !it->is_number()) continue;
        const double b = it->get<double>();
        OJson d = {{"value", *v.value}, {"baseline", b}, {"delta", *v.value - b}};
        // Relative change, signed: (value - baseline) / |baseline|; null when baseline is 0.
        d["relative_delta"] = b != 0 ? OJson((*v.value - b) / std::fabs(b)) : OJson(nullptr);
        deltas[name] = d;
      }
    }
  }
  j["baseline"] = baseline;
  j["deltas"] = deltas;
  j["drift"] = r.drift;
  j["model"] = r.model;
  OJson checks = OJson::array();
  for (const Check& c : r.checks) {
    OJson cj = {{"name", c.name}, {"kind", c.kind}, {"subject", c.subject}};
    if (!c.group.empty()) cj["group"] = c.group;
    cj["status"] = StatusWord(c.status);
    cj["value"] = c.value ? OJson(*c.value) : OJson(nullptr);
    cj["limit"] = c.limit ? OJson(*c.limit) : OJson(nullptr);
    if (c.kind == "baseline") cj["baseline"] = c.baseline ? OJson(*c.baseline) : OJson(nullptr);
    cj["message"] = c.message;
    checks.push_back(cj);
  }
  j["checks"] = checks;
  return j;
}

std::string OpenMetricsText(const ValidationResult& r, const std::string& prefix) {
  std::ostringstream out;
  auto family = [&](const std::string& name, const std::string& help) {
    out << "# TYPE " << name << " gauge\n# HELP " << name << " " << help << "\n";
  };
  for (const auto& [metric, v] : r.metrics.items()) {
    const std::string name = MetricName(prefix, metric);
    bool any = v.value.has_value();
    for (const Slice& s : r.slices) {
      const MetricValue* sv = s.metrics.Find(metric);
      any |= sv && sv->value;
    }
    if (!any) continue;
    family(name, metric);
    if (v.value) out << name << " " << ExactNumber(*v.value) << "\n";
    for (const Slice& s : r.slices) {
      const MetricValue* sv = s.metrics.Find(metric);
      if (sv && sv->value) {
        out << name << "{group=\"" << LabelEscape(s.group) << "\"} " << ExactNumber(*sv->value)
            << "\n";
      }
    }
  }
  const std::string rows = MetricName(prefix, "rows");
  family(rows, "rows in the predictions file");
  out << rows << " " << r.details.value("rows", std::uint64_t{0}) << "\n";
  if (r.drift.is_object()) {
    struct Stat {
      const char* test;
      const char* field;
      const char* name;
    };
    for (const Stat& st :
         {Stat{"psi", "value", "drift_psi"}, Stat{"ks", "statistic", "drift_ks_statistic"},
          Stat{"ks", "p_value", "drift_ks_p_value"},
          Stat{"chi2", "p_value", "drift_chi2_p_value"}}) {
      std::ostringstream lines;
      for (const auto& [feature, fr] : r.drift["features"].items()) {
        if (!fr.contains(st.test)) continue;
        lines << MetricName(prefix, st.name) << "{feature=\"" << LabelEscape(feature) << "\"} "
              << ExactNumber(fr[st.test][st.field].get<double>()) << "\n";
      }
      if (lines.str().empty()) continue;
      family(MetricName(prefix, st.name), std::string(st.test) + " " + st.field + " per feature");
      out << lines.str();
    }
    const std::string share = MetricName(prefix, "drift_drifted_share");
    family(share, "share of features with drift");
    out << share << " " << ExactNumber(r.drift["drifted_share"].get<double>()) << "\n";
  }
  const std::string failed = MetricName(prefix, "checks_failed");
  family(failed, "failed gates");
  out << failed << " " << r.failed() << "\n";
  out << "# EOF\n";
  return out.str();
}

std::string JUnitXml(const ValidationResult& r) {
  int failed = 0, skipped = 0;
  for (const Check& c : r.checks) {
    failed += c.status == Check::Status::kFailed;
    skipped += c.status == Check::Status::kSkipped;
  }
  std::ostringstream out;
  const std::string counts = "tests=\"" + std::to_string(r.checks.size()) + "\" failures=\"" +
                             std::to_string(failed) + "\" errors=\"0\" skipped=\"" +
                             std::to_string(skipped) + "\"";
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out << "<testsuites name=\"model-validation\" " << counts << " time=\"0\">\n";
  out << "  <testsuite name=\"model-validation\" " << counts << " time=\"0\">\n";
  for (const Check& c : r.checks) {
    out << "    <testcase classname=\"model-validation." << XmlEscape(c.kind) << "\" name=\""
        << XmlEscape(c.name) << "\" time=\"0\">\n";
    if (c.status == Check::Status::kFailed) {
      out << "      <failure type=\"GateFailed\" message=\"" << XmlEscape(c.message) << "\">"
          << XmlEscape(c.message) << "</failure>\n";
    } else if (c.status == Check::Status::kSkipped) {
      out << "      <skipped message=\"" << XmlEscape(c.message) << "\"/>\n";
    } else {
      out << "      <system-out>" << XmlEscape(c.message) << "</system-out>\n";
    }
    out << "    </testcase>\n";
  }
  out << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

std::string MarkdownSummary(const ValidationResult& r) {
  std::ostringstream out;
  const int failed = r.failed();
  out << "## Model validation: " << (failed == 0 ? "✅ passed" : "❌ failed") << "\n\n";
  out << "`" << MdEscape(r.predictions_path) << "`: " << r.details.value("rows", std::uint64_t{0})
      << " rows, " << (r.task == Task::kClassification ? "classification" : "regression");
  if (r.details.contains("classes")) out << ", " << r.details["classes"].size() << " classes";
  out << ". " << r.checks.size() << " checks, " << failed << " failed.\n\n";

  if (!r.checks.empty()) {
    out << "| | Check | Result |\n|---|---|---|\n";
    // Failed checks first, so the reason is at the top of the note.
    for (Check::Status want :
         {Check::Status::kFailed, Check::Status::kPassed, Check::Status::kSkipped}) {
      for (const Check& c : r.checks) {
        if (c.status != want) continue;
        const char* icon = want == Check::Status::kFailed   ? "❌"
                           : want == Check::Status::kPassed ? "✅"
                                                            : "⏭️";
        out << "| " << icon << " | " << MdEscape(c.name) << " | " << MdEscape(c.message) << " |\n";
      }
    }
    out << "\n";
  }

  const bool with_baseline = r.baseline_loaded;
  out << "### Metrics\n\n| Metric | Value |" << (with_baseline ? " Baseline | Δ |" : "") << "\n";
  out << "|---|---:|" << (with_baseline ? "---:|---:|" : "") << "\n";
  for (const auto& [name, v] : r.metrics.items()) {
    out << "| " << MdEscape(name) << " | " << (v.value ? FormatNumber(*v.value) : "undefined")
        << " |";
    if (with_baseline) {
      auto it = r.baseline["metrics"].find(name);
      if (it != r.baseline["metrics"].end() && it->is_number() && v.value) {
        const double b = it->get<double>(), d = *v.value - b;
        out << " " << FormatNumber(b) << " | " << (d > 0 ? "+" : "") << FormatNumber(d) << " |";
      } else {
        out << " – | – |";
      }
    }
    out << "\n";
  }
  out << "\n";
  if (!r.slices.empty()) {
    out << "### Slices\n\n| Slice | Rows |";
    std::vector<std::string> headline;
    for (const char* m : {"accuracy", "f1_macro", "roc_auc", "log_loss", "mae", "rmse", "r2"}) {
      if (r.metrics.Find(m)) headline.push_back(m);
    }
    for (const auto& m : headline) out << " " << m << " |";
    out << "\n|---|---:|";
    for (std::size_t i = 0; i < headline.size(); ++i) out << "---:|";
    out << "\n";
    for (const Slice& s : r.slices) {
      out << "| " << MdEscape(s.group) << " | " << s.details.value("rows", std::uint64_t{0})
          << " |";
      for (const auto& m : headline) {
        const MetricValue* v = s.metrics.Find(m);
        out << " " << (v && v->value ? FormatNumber(*v->value) : "–") << " |";
      }
      out << "\n";
    }
    out << "\n";
  }
  if (r.drift.is_object()) {
    out << "### Drift\n\n`" << MdEscape(r.drift["reference"].get<std::string>()) << "` → `"
        << MdEscape(r.drift["current"].get<std::string>())
        << "`: " << r.drift["drifted_features"].get<int>() << " of " << r.drift["features"].size()
        << " features drifted.\n\n| Feature | Type | PSI | KS D (p) | χ² (p) | Drift |\n"
        << "|---|---|---:|---:|---:|---|\n";
    for (const auto& [feature, fr] : r.drift["features"].items()) {
      out << "| " << MdEscape(feature) << " | " << fr["type"].get<std::string>() << " | ";
      out << (fr.contains("psi") ? FormatNumber(fr["psi"]["value"].get<double>()) : "–") << " | ";
      if (fr.contains("ks")) {
        out << FormatNumber(fr["ks"]["statistic"].get<double>()) << " ("
            << FormatNumber(fr["ks"]["p_value"].get<double>()) << ")";
      } else {
        out << "–";
      }
      out << " | ";
      if (fr.contains("chi2")) {
        out << FormatNumber(fr["chi2"]["statistic"].get<double>()) << " ("
            << FormatNumber(fr["chi2"]["p_value"].get<double>()) << ")";
      } else {
        out << "–";
      }
      out << " | " << (fr["drift"].get<bool>() ? "❌ yes" : "✅ no") << " |\n";
    }
    out << "\n";
  }
  if (r.model.is_object()) {
    out << "### Model\n\n`" << MdEscape(r.model["path"].get<std::string>()) << "`";
    if (r.model.value("present", false)) {
      out << ": " << r.model["bytes"].get<std::uint64_t>() << " bytes, SHA-256 `"
          << r.model["sha256"].get<std::string>() << "`";
    } else {
      out << ": missing";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace stagehost::model_validation
