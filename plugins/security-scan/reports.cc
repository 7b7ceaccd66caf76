// reports.cc -- GitLab, SARIF and JSON reports and the log table (see reports.h). No report ever
// carries a secret: only the redacted form and the fingerprint.
#include "reports.h"

#include <array>
#include <map>

namespace stagehost::security_scan {
namespace {

using json = nlohmann::json;

json Analyzer(const ReportContext& ctx) {
  return {{"id", "stagehost-security-scan"},
          {"name", "stagehost security-scan"},
          {"version", ctx.tool_version},
          {"vendor", {{"name", "stagehost"}}}};
}

json Scan(const ScanResult& r, const ReportContext& ctx, const char* type) {
  json scan = {{"analyzer", Analyzer(ctx)},  {"scanner", Analyzer(ctx)}, {"type", type},
               {"start_time", r.start_time}, {"end_time", r.end_time},   {"status", "success"}};
  json messages = json::array();
  for (const auto& m : r.messages) messages.push_back({{"level", "warn"}, {"value", m}});
  if (!messages.empty()) scan["messages"] = messages;
  return scan;
}

std::string Schema(const char* file) {
  return std::string(
             "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v") +
         kGitLabSchemaVersion + "/dist/" + file;
}

// Stable SARIF rule ids: "<kind>/<rule>".
std::string SarifRuleId(const Finding& f) {
  return std::string(KindName(f.kind)) + "/" + f.rule_id;
}

}  // namespace

json SecretDetectionReport(const ScanResult& r, const ReportContext& ctx) {
  json vulns = json::array();
  for (const Finding& f : r.findings) {
    if (f.kind != FindingKind::kSecret) continue;
    json v = {
        {"id", UuidFromFingerprint("secret", f.fingerprint)},
        {"name", f.title},
        {"description", f.title + " found in " + f.path + " (redacted: " + f.redacted +
                            "). Revoke and rotate it, then remove it from the history."},
        {"severity", SeverityGitLab(f.severity)},
        {"solution",
         "Revoke and rotate the credential; load it from a CI/CD variable or a secret store."},
        {"identifiers", json::array({{{"type", "stagehost_secret_rule"},
                                      {"name", "stagehost rule " + f.rule_id},
                                      {"value", f.rule_id}}})},
        {"location",
         {{"file", f.path},
          {"start_line", f.line},
          {"end_line", f.end_line ? f.end_line : f.line},
          {"commit", {{"sha", ctx.commit_sha}}}}}};
    if (f.baselined) {
      v["flags"] =
          json::array({{{"type", "flagged-as-likely-false-positive"},
                        {"origin", "stagehost baseline"},
                        {"description", "fingerprint " + f.fingerprint + " is in the baseline"}}});
    }
    vulns.push_back(std::move(v));
  }
  return {{"version", kGitLabSchemaVersion},
          {"schema", Schema("secret-detection-report-format.json")},
          {"scan", Scan(r, ctx, "secret_detection")},
          {"vulnerabilities", vulns}};
}

json DependencyScanningReport(const ScanResult& r, const ReportContext& ctx) {
  json vulns = json::array();
  for (const Finding& f : r.findings) {
    if (f.kind != FindingKind::kDependency) continue;
    json ids =
        json::array({{{"type", "osv"}, {"name", f.rule_id}, {"value", f.rule_id}, {"url", f.url}}});
    for (const auto& alias : f.aliases) {
      const std::string type = alias.rfind("CVE-", 0) == 0    ? "cve"
                               : alias.rfind("GHSA-", 0) == 0 ? "ghsa"
                                                              : "osv_alias";
      json id = {{"type", type}, {"name", alias}, {"value", alias}};
      if (type == "cve") id["url"] = "https://nvd.nist.gov/vuln/detail/" + alias;
      if (ids.size() < 20) ids.push_back(id);
    }
    json v = {{"id", UuidFromFingerprint("dependency", f.fingerprint)},
              {"name", f.title.substr(0, 255)},
              {"description", f.message},
              {"severity", SeverityGitLab(f.severity)},
              {"identifiers", ids},
              {"links", json::array({{{"url", f.url}}})},
              {"location",
               {{"file", f.path},
                {"dependency", {{"package", {{"name", f.package}}}, {"version", f.version}}}}}};
    if (!f.fixed_version.empty())
      v["solution"] = "Upgrade " + f.package + " to " + f.fixed_version + " or later.";
    vulns.push_back(std::move(v));
  }
  json files = json::array();
  for (const Manifest& m : r.manifests) {
    json deps = json::array();
    for (const Dependency& d : m.dependencies) {
      deps.push_back(
          {{"package", {{"name", d.name}}}, {"version", d.version}, {"direct", d.direct}});
    }
    files.push_back(
        {{"path", m.path}, {"package_manager", m.package_manager}, {"dependencies", deps}});
  }
  return {{"version", kGitLabSchemaVersion},
          {"schema", Schema("dependency-scanning-report-format.json")},
          {"scan", Scan(r, ctx, "dependency_scanning")},
          {"vulnerabilities", vulns},
          {"dependency_files", files}};
}

json Sarif(const ScanResult& r, const ReportContext& ctx) {
  json rules = json::array();
  std::map<std::string, std::size_t> rule_index;
  json results = json::array();
  for (const Finding& f : r.findings) {
    const std::string id = SarifRuleId(f);
    if (!rule_index.count(id)) {
      rule_index[id] = rules.size();
      rules.push_back({{"id", id},
                       {"name", f.rule_id},
                       {"shortDescription", {{"text", f.title}}},
                       {"fullDescription", {{"text", f.title}}},
                       {"help",
                        {{"text", f.kind == FindingKind::kSecret
                                      ? "Revoke and rotate the credential; never commit it."
                                  : f.kind == FindingKind::kModel
                                      ? "Load only models from trusted sources; prefer safetensors."
                                      : "Upgrade the dependency to a fixed version."}}},
                       {"defaultConfiguration", {{"level", SeveritySarifLevel(f.severity)}}},
                       {"properties",
                        {{"tags", json::array({"security", KindName(f.kind)})},
                         {"security-severity", SeverityScore(f.severity)}}}});
    }
    json region = {{"startLine", std::max<std::uint32_t>(f.line, 1)}};
    if (f.end_line >= f.line && f.end_line > 0) region["endLine"] = f.end_line;
    if (f.column > 0) region["startColumn"] = f.column;
    json result = {
        {"ruleId", id},
        {"ruleIndex", rule_index[id]},
        {"level", SeveritySarifLevel(f.severity)},
        {"message", {{"text", f.message}}},
        {"locations",
         json::array({{{"physicalLocation",
                        {{"artifactLocation", {{"uri", f.path}}}, {"region", region}}}}})},
        {"partialFingerprints", {{"stagehostFingerprint/v1", f.fingerprint}}},
        {"properties", {{"severity", SeverityName(f.severity)}}}};
    if (f.baselined) result["baselineState"] = "unchanged";
    results.push_back(std::move(result));
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({{{"tool",
                                  {{"driver",
                                    {{"name", "stagehost-security-scan"},
                                     {"version", ctx.tool_version},
                                     {"informationUri", "https://gitlab.com/stagehost/stagehost"},
                                     {"rules", rules}}}}},
                                 {"results", results}}})}};
}

json ResultJson(const ScanResult& r, const Config& config, const ReportContext& ctx) {
  json findings = json::array();
  for (const Finding& f : r.findings) {
    json j = {{"kind", KindName(f.kind)}, {"severity", SeverityName(f.severity)},
              {"rule", f.rule_id},        {"title", f.title},
              {"message", f.message},     {"path", f.path},
              {"line", f.line},           {"fingerprint", f.fingerprint},
              {"baselined", f.baselined}};
    if (!f.redacted.empty()) j["redacted"] = f.redacted;
    if (!f.tags.empty()) j["tags"] = f.tags;
    if (f.kind == FindingKind::kDependency) {
      j["package"] = f.package;
      j["version"] = f.version;
      j["ecosystem"] = f.ecosystem;
      if (!f.fixed_version.empty()) j["fixed_version"] = f.fixed_version;
      j["aliases"] = f.aliases;
    }
    findings.push_back(std::move(j));
  }
  const auto& s = r.stats;
  return {{"tool", {{"name", "stagehost-security-scan"}, {"version", ctx.tool_version}}},
          {"start_time", r.start_time},
          {"end_time", r.end_time},
          {"fail_on", config.fail_on ? SeverityName(*config.fail_on) : "never"},
          {"failing", r.failing},
          {"baselined", r.baselined},
          {"stats",
           {{"files_seen", s.files_seen},
            {"files_scanned", s.files_scanned},
            {"bytes_scanned", s.bytes_scanned},
            {"skipped_large", s.skipped_large},
            {"skipped_binary", s.skipped_binary},
            {"skipped_excluded", s.skipped_excluded},
            {"dirs_skipped", s.dirs_skipped},
            {"notebooks", s.notebooks},
            {"model_files", s.model_files},
            {"rules", s.rules},
            {"rules_source", s.rules_source},
            {"fallback_rules", s.fallback_rules},
            {"rules_cached", s.rules_cached},
            {"advisories", s.advisories},
            {"seconds", s.seconds},
            {"threads", s.threads}}},
          {"messages", r.messages},
          {"findings", findings}};
}

std::string SummaryTable(const ScanResult& r, const Config& config) {
  std::string out;
  auto pad = [](std::string s, std::size_t w) {
    if (s.size() < w) s.append(w - s.size(), ' ');
    return s;
  };
  if (!r.findings.empty()) {
    out += "  " + pad("SEVERITY", 10) + pad("KIND", 11) + pad("RULE", 30) + pad("LOCATION", 44) +
           "DETAIL\n";
  }
  std::array<std::size_t, 5> counts{};
  for (const Finding& f : r.findings) {
    ++counts[static_cast<std::size_t>(f.severity)];
    std::string where = f.path + (f.line ? ":" + std::to_string(f.line) : "");
    std::string detail = f.kind == FindingKind::kSecret ? f.redacted + "  fp " + f.fingerprint
                         : f.kind == FindingKind::kDependency
                             ? f.package + " " + f.version +
                                   (f.fixed_version.empty() ? "" : " -> " + f.fixed_version)
                             : f.message.substr(f.message.find(": ") == std::string::npos
                                                    ? 0
                                                    : f.message.find(": ") + 2);
    if (f.baselined) detail += "  (baseline)";
    out += "  " + pad(SeverityName(f.severity), 10) + pad(KindName(f.kind), 11) +
           pad(f.rule_id, 30) + pad(where, 44) + detail + "\n";
  }
  out += "  findings: " + std::to_string(r.findings.size()) + " (critical " +
         std::to_string(counts[4]) + ", high " + std::to_string(counts[3]) + ", medium " +
         std::to_string(counts[2]) + ", low " + std::to_string(counts[1]) + ", info " +
         std::to_string(counts[0]) + "; baselined " + std::to_string(r.baselined) +
         "); threshold " + (config.fail_on ? SeverityName(*config.fail_on) : "never") + ": " +
         std::to_string(r.failing) + " failing\n";
  return out;
}

}  // namespace stagehost::security_scan
