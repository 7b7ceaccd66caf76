// model_validation_plugin.cc -- the "model-validation" stage plugin: config in, reports and verdict
// out.
//
//   stagehost run model-validation --workspace examples --config
//   examples/stagehost/model-validation.yml
//
// The work is in the core library (validator.cc and friends); this file maps it onto the SDK:
// config parsing, log lines, the four artifacts with media types, outputs, and the outcome.
#include <stagehost/plugin.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config.h"
#include "config_schema.h"
#include "reports.h"
#include "result.h"

namespace {

namespace sdk = stagehost::sdk;
namespace mv = stagehost::model_validation;

class ModelValidation {
 public:
  static constexpr const char* kName = "model-validation";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr sdk::StageType kStageType = sdk::StageType::kModelValidation;
  static constexpr const char* kDescription =
      "Computes classification/regression metrics, drift tests and model checks; gates them "
      "against bounds and a baseline; writes JSON, OpenMetrics, JUnit and Markdown reports";
  static constexpr const char* kVendor = "stagehost";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = mv::kConfigSchema;

  ModelValidation(const sdk::Context& ctx, std::string_view config_json)
      : ctx_(ctx), config_(mv::ParseConfig(nlohmann::json::parse(config_json))) {}

  void RequestCancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }

  sdk::Outcome Run(const sdk::RunInput& input) {
    mv::RunHooks hooks;
    hooks.warn = [this](const std::string& line) { ctx_.Warn(line); };
    hooks.check_cancelled = [this] {
      if (cancel_.load(std::memory_order_relaxed) || ctx_.cancelled()) throw sdk::Cancelled();
    };
    hooks.progress = [this](unsigned permille, const std::string& message) {
      ctx_.Progress(permille, message);
    };
    ctx_.Info("model-validation: reading " + config_.predictions.path);
    const mv::ValidationResult r = mv::Validate(config_, std::string(input.workspace_dir()), hooks);

    ctx_.Progress(950, "writing reports");
    const std::string json = mv::ResultJson(r, kVersion).dump(2) + "\n";
    ctx_.WriteArtifact(input, mv::kResultFile, json, "model validation result", "application/json");
    ctx_.WriteArtifact(input, mv::kMetricsFile, mv::OpenMetricsText(r, config_.metrics_prefix),
                       "metrics (OpenMetrics, GitLab metrics report)",
                       "application/openmetrics-text; version=1.0.0; charset=utf-8");
    ctx_.WriteArtifact(input, mv::kJUnitFile, mv::JUnitXml(r), "gates (JUnit)", "application/xml");
    ctx_.WriteArtifact(input, mv::kSummaryFile, mv::MarkdownSummary(r),
                       "summary (Markdown, merge-request note)", "text/markdown; charset=utf-8");

    // Headline metrics as outputs (only those defined for this input).
    for (const char* name : {"accuracy", "balanced_accuracy", "f1_macro", "roc_auc",
                             "average_precision", "log_loss", "ece", "mae", "rmse", "r2", "mape"}) {
      const mv::MetricValue* v = r.metrics.Find(name);
      if (v && v->value) ctx_.SetOutput(name, mv::ExactNumber(*v->value));
    }
    ctx_.SetOutput("rows", std::to_string(r.details.value("rows", std::uint64_t{0})));
    ctx_.SetOutput("checks_failed", std::to_string(r.failed()));

    std::string headline;
    for (const auto& [name, v] : r.metrics.items()) {
      if (!v.value) continue;
      if (name == "accuracy" || name == "f1_macro" || name == "roc_auc" || name == "log_loss" ||
          name == "rmse" || name == "r2" || name == "mae") {
        headline += (headline.empty() ? "" : ", ") + name + " " + mv::FormatNumber(*v.value);
      }
    }
    ctx_.Info("model-validation: " + std::to_string(r.details.value("rows", std::uint64_t{0})) +
              " rows; " + headline);
    for (const auto& [name, v] : r.metrics.items()) {
      if (!v.value) ctx_.Warn("model-validation: " + name + " undefined: " + v.undefined_reason);
    }
    for (const mv::Check& c : r.checks) {
      switch (c.status) {
        case mv::Check::Status::kPassed:
          ctx_.Info("  PASS  " + c.name + ": " + c.message);
          break;
        case mv::Check::Status::kSkipped:
          ctx_.Info("  SKIP  " + c.name + ": " + c.message);
          break;
        case mv::Check::Status::kFailed:
          ctx_.Error("  FAIL  " + c.name + ": " + c.message);
          break;
      }
    }
    const std::string dir(input.artifact_dir());
    ctx_.Info("model-validation: reports in " + dir + ": " + mv::kResultFile + ", " +
              mv::kMetricsFile + ", " + mv::kJUnitFile + ", " + mv::kSummaryFile);
    ctx_.Progress(1000, "done");
    if (r.failed() > 0) {
      ctx_.Error("model-validation: " + std::to_string(r.failed()) + " of " +
                 std::to_string(r.checks.size()) + " checks failed");
      return sdk::Outcome::kFailed;
    }
    ctx_.Info("model-validation: all " + std::to_string(r.checks.size()) + " checks passed");
    return sdk::Outcome::kPassed;
  }

 private:
  const sdk::Context& ctx_;
  mv::Config config_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

STAGEHOST_PLUGIN(ModelValidation)
