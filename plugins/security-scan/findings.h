// findings.h -- what every scanner of the security-scan stage produces: a Finding with a severity,
// a redacted excerpt and a stable fingerprint (the secret itself is never stored).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::security_scan {

// Ordered: a threshold "high" fails on High and Critical.
enum class Severity { kInfo = 0, kLow, kMedium, kHigh, kCritical };

// "info" ... "critical" (lower case, as in the config and the log).
const char* SeverityName(Severity s);
// "Info" ... "Critical" (GitLab's spelling).
const char* SeverityGitLab(Severity s);
// SARIF level: error (high, critical), warning (medium), note (low, info).
const char* SeveritySarifLevel(Severity s);
// The "security-severity" score GitHub code scanning ranks by.
const char* SeverityScore(Severity s);
std::optional<Severity> ParseSeverity(std::string_view name);

enum class FindingKind { kSecret, kModel, kDependency };
const char* KindName(FindingKind k);

struct Finding {
  FindingKind kind = FindingKind::kSecret;
  Severity severity = Severity::kHigh;
  std::string rule_id;     // stable: a secret rule id, "pickle-dangerous-global", an OSV id
  std::string title;       // short, finding-independent (rule description)
  std::string message;     // this occurrence; never contains a secret
  std::string path;        // relative to the workspace, '/' separated
  std::uint32_t line = 0;  // 1-based; 0 when not line-oriented
  std::uint32_t end_line = 0;
  std::uint32_t column = 0;       // 1-based start column, 0 when unknown
  std::string redacted;           // e.g. "ghp_****************" (secrets only)
  std::string fingerprint;        // 16 hex digits, stable across runs
  std::vector<std::string> tags;  // e.g. "decoded:base64", "notebook"
  // Dependencies only.
  std::string package, version, ecosystem, fixed_version;
  std::vector<std::string> aliases;  // CVE-…, GHSA-…
  std::string url;
  bool baselined = false;  // matched the baseline: reported, never fails the stage
};

// Lower-case hex SHA-256.
std::string Sha256Hex(std::string_view data);
// The first 16 hex digits of sha256(parts joined by NUL).
std::string Fingerprint(std::initializer_list<std::string_view> parts);
// A UUID-shaped id derived from a fingerprint, so a finding keeps its id across pipelines.
std::string UuidFromFingerprint(std::string_view kind, std::string_view fingerprint);
// Keeps a short recognisable prefix (a provider's fixed prefix, at most 4 characters and never
// more than a quarter of the secret) and masks the rest, so logs can tell findings apart.
std::string Redact(std::string_view secret);
// Shannon entropy in bits per byte.
double ShannonEntropy(std::string_view s);

// Findings sorted for reports: by path, line, rule.
void SortFindings(std::vector<Finding>& findings);

}  // namespace stagehost::security_scan
