// findings.cc -- severity names, fingerprints, redaction and entropy shared by all scanners.
#include "findings.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace stagehost::security_scan {

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "unknown";
}

const char* SeverityGitLab(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "Info";
    case Severity::kLow:
      return "Low";
    case Severity::kMedium:
      return "Medium";
    case Severity::kHigh:
      return "High";
    case Severity::kCritical:
      return "Critical";
  }
  return "Unknown";
}

const char* SeveritySarifLevel(Severity s) {
  if (s >= Severity::kHigh) return "error";
  if (s == Severity::kMedium) return "warning";
  return "note";
}

const char* SeverityScore(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "0.0";
    case Severity::kLow:
      return "3.0";
    case Severity::kMedium:
      return "5.5";
    case Severity::kHigh:
      return "8.0";
    case Severity::kCritical:
      return "9.5";
  }
  return "0.0";
}

std::optional<Severity> ParseSeverity(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "info") return Severity::kInfo;
  if (lower == "low") return Severity::kLow;
  if (lower == "medium" || lower == "moderate") return Severity::kMedium;
  if (lower == "high") return Severity::kHigh;
  if (lower == "critical") return Severity::kCritical;
  return std::nullopt;
}

const char* KindName(FindingKind k) {
  switch (k) {
    case FindingKind::kSecret:
      return "secret";
    case FindingKind::kModel:
      return "model";
    case FindingKind::kDependency:
      return "dependency";
  }
  return "unknown";
}

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("EVP_Digest(sha256) failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(kHex[md[i] >> 4]);
    out.push_back(kHex[md[i] & 15]);
  }
  return out;
}

std::string Fingerprint(std::initializer_list<std::string_view> parts) {
  std::string joined;
  for (std::string_view p : parts) {
    joined.append(p);
    joined.push_back('\0');
  }
  return Sha256Hex(joined).substr(0, 16);
}

std::string UuidFromFingerprint(std::string_view kind, std::string_view fingerprint) {
  std::string h = Sha256Hex(std::string(kind) + "|" + std::string(fingerprint));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string Redact(std::string_view secret) {
  // A provider prefix ends at the first '_' or '-' within the first 8 bytes (ghp_, xoxb-,
  // sk_live_); otherwise keep nothing for short values and at most 4 characters for long ones.
  std::size_t keep = 0;
  for (std::size_t i = 0; i < secret.size() && i < 8; ++i) {
    if (secret[i] == '_' || secret[i] == '-') keep = i + 1;
  }
  keep = std::min<std::size_t>(keep, 8);
  if (keep == 0 && secret.size() >= 16) keep = 4;
  keep = std::min(keep, secret.size() / 4);
  std::string out(secret.substr(0, keep));
  const std::size_t stars = std::min<std::size_t>(secret.size() - keep, 16);
  out.append(stars, '*');
  if (secret.size() - keep > stars) out += "(" + std::to_string(secret.size()) + " chars)";
  return out;
}

double ShannonEntropy(std::string_view s) {
  if (s.empty()) return 0;
  std::array<std::size_t, 256> counts{};
  for (unsigned char c : s) ++counts[c];
  double h = 0;
  const double n = static_cast<double>(s.size());
  for (std::size_t c : counts) {
    if (c == 0) continue;
    const double p = static_cast<double>(c) / n;
    h -= p * std::log2(p);
  }
  return h;
}

void SortFindings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.path != b.path) return a.path < b.path;
    if (a.line != b.line) return a.line < b.line;
    if (a.rule_id != b.rule_id) return a.rule_id < b.rule_id;
    return a.fingerprint < b.fingerprint;
  });
}

}  // namespace stagehost::security_scan
