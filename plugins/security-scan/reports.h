// reports.h -- the stage's outputs: GitLab secret_detection and dependency_scanning reports (schema
// 15.0.6), SARIF 2.1.0, the JSON result (reusable as the next baseline) and the log summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config.h"
#include "scan.h"

namespace stagehost::security_scan {

inline constexpr const char* kSecretReportFile = "gl-secret-detection-report.json";
inline constexpr const char* kDependencyReportFile = "gl-dependency-scanning-report.json";
inline constexpr const char* kSarifFile = "security-scan.sarif";
inline constexpr const char* kResultFile = "security-scan.json";
inline constexpr const char* kGitLabSchemaVersion = "15.0.6";

struct ReportContext {
  std::string tool_version;
  std::string commit_sha = "0000000";  // GitLab requires one; 0000000 when not in a git job
};

nlohmann::json SecretDetectionReport(const ScanResult& r, const ReportContext& ctx);
nlohmann::json DependencyScanningReport(const ScanResult& r, const ReportContext& ctx);
nlohmann::json Sarif(const ScanResult& r, const ReportContext& ctx);
nlohmann::json ResultJson(const ScanResult& r, const Config& config, const ReportContext& ctx);
// The table printed in the stage log: one line per finding, then counts per severity.
std::string SummaryTable(const ScanResult& r, const Config& config);

}  // namespace stagehost::security_scan
