// security_scan_plugin.cc -- the "security-scan" stage plugin: config in, reports and verdict out.
//
//   stagehost run security-scan --workspace examples --config examples/stagehost/security-scan.yml
//
// The work is in the core library (scan.cc and friends); this file maps it onto the SDK: config,
// log lines (summary table), the four artifacts with media types, outputs, and the outcome.
#include <stagehost/plugin.h>

#include <atomic>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "config.h"
#include "config_schema.h"
#include "reports.h"
#include "scan.h"

namespace {

namespace sdk = stagehost::sdk;
namespace ss = stagehost::security_scan;

class SecurityScan {
 public:
  static constexpr const char* kName = "security-scan";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr sdk::StageType kStageType = sdk::StageType::kSecurityScan;
  static constexpr const char* kDescription =
      "Finds secrets (built-in or gitleaks rules, Hyperscan + RE2), unsafe pickle model files and "
      "dependencies with OSV advisories; writes GitLab secret/dependency reports and SARIF";
  static constexpr const char* kVendor = "stagehost";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = ss::kConfigSchema;

  SecurityScan(const sdk::Context& ctx, std::string_view config_json)
      : ctx_(ctx), config_(ss::ParseConfig(nlohmann::json::parse(config_json))) {}

  void RequestCancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }

  sdk::Outcome Run(const sdk::RunInput& input) {
    const std::string workspace(input.workspace_dir());
    ctx_.Info("security-scan: scanning " + workspace);
    const ss::ScanResult r = ss::RunScan(config_, workspace, [this] {
      return cancel_.load(std::memory_order_relaxed) || ctx_.cancelled();
    });
    const auto& s = r.stats;
    ctx_.Info("security-scan: " + std::to_string(s.files_scanned) + " files, " +
              std::to_string(s.bytes_scanned / 1024) + " KiB in " +
              std::to_string(static_cast<int>(s.seconds * 1000)) + " ms on " +
              std::to_string(s.threads) + " threads; rules: " + std::to_string(s.rules) + " (" +
              s.rules_source + "); skipped: " + std::to_string(s.skipped_large) + " large, " +
              std::to_string(s.skipped_binary) + " binary, " + std::to_string(s.dirs_skipped) +
              " vendored/generated dirs; " + std::to_string(s.model_files) + " model files, " +
              std::to_string(r.manifests.size()) + " dependency manifests, " +
              std::to_string(s.advisories) + " advisories");
    if (!s.fallback_rules.empty()) {
      std::string names;
      for (const auto& n : s.fallback_rules) names += (names.empty() ? "" : ", ") + n;
      ctx_.Warn("security-scan: rules matched by RE2 on keyword lines (Hyperscan rejected them): " +
                names);
    }
    for (const auto& m : r.messages) ctx_.Warn("security-scan: " + m);

    ss::ReportContext rc;
    rc.tool_version = kVersion;
    if (config_.commit_sha) {
      rc.commit_sha = *config_.commit_sha;
    } else if (auto sha = input.env("CI_COMMIT_SHA"); sha && !sha->empty()) {
      rc.commit_sha = std::string(*sha);
    }
    ctx_.Progress(950, "writing reports");
    ctx_.WriteArtifact(input, ss::kSecretReportFile,
                       ss::SecretDetectionReport(r, rc).dump(2) + "\n", "secret detection (GitLab)",
                       "application/json");
    ctx_.WriteArtifact(input, ss::kDependencyReportFile,
                       ss::DependencyScanningReport(r, rc).dump(2) + "\n",
                       "dependency scanning (GitLab)", "application/json");
    ctx_.WriteArtifact(input, ss::kSarifFile, ss::Sarif(r, rc).dump(2) + "\n", "findings (SARIF)",
                       "application/sarif+json");
    ctx_.WriteArtifact(input, ss::kResultFile, ss::ResultJson(r, config_, rc).dump(2) + "\n",
                       "security-scan result (baseline)", "application/json");

    ctx_.SetOutput("findings", std::to_string(r.findings.size()));
    ctx_.SetOutput("failing", std::to_string(r.failing));
    ctx_.Write(ss::SummaryTable(r, config_));
    ctx_.Info("security-scan: reports in " + std::string(input.artifact_dir()) + ": " +
              ss::kSecretReportFile + ", " + ss::kDependencyReportFile + ", " + ss::kSarifFile +
              ", " + ss::kResultFile);
    ctx_.Progress(1000, "done");
    if (r.failing > 0) {
      ctx_.Error("security-scan: " + std::to_string(r.failing) + " finding(s) at or above " +
                 ss::SeverityName(*config_.fail_on) + ": stage failed");
      return sdk::Outcome::kFailed;
    }
    return sdk::Outcome::kPassed;
  }

 private:
  const sdk::Context& ctx_;
  ss::Config config_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

STAGEHOST_PLUGIN(SecurityScan)
