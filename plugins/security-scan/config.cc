// config.cc -- config JSON to Config, with the schema's defaults (see config_schema.h).
#include "config.h"

#include <re2/re2.h>
#include <stagehost/stage.h>

namespace stagehost::security_scan {
namespace {

std::vector<std::string> Strings(const nlohmann::json& j, const char* key) {
  std::vector<std::string> out;
  if (j.contains(key)) {
    for (const auto& s : j[key]) out.push_back(s.get<std::string>());
  }
  return out;
}

void CheckRegexes(const std::vector<std::string>& regexes, const std::string& where) {
  for (const auto& r : regexes) {
    RE2::Options opt;
    opt.set_log_errors(false);
    RE2 re(r, opt);
    if (!re.ok()) throw sdk::BadConfig(where + ": invalid regex \"" + r + "\": " + re.error());
  }
}

}  // namespace

Config ParseConfig(const nlohmann::json& j) {
  Config c;
  const std::string fail_on = j.value("fail_on", std::string("high"));
  c.fail_on = fail_on == "never" ? std::nullopt : ParseSeverity(fail_on);
  c.max_file_bytes = j.value("max_file_bytes", c.max_file_bytes);
  c.max_model_bytes = j.value("max_model_bytes", c.max_model_bytes);
  c.threads = j.value("threads", 0u);
  c.skip_dirs = j.contains("skip_dirs")
                    ? Strings(j, "skip_dirs")
                    : std::vector<std::string>{
                          ".git",          ".hg",           ".svn",        "node_modules",
                          "vendor",        "dist",          "build",       "__pycache__",
                          ".venv",         "venv",          ".tox",        ".mypy_cache",
                          ".pytest_cache", "site-packages", "third_party", ".terraform"};
  c.exclude = Strings(j, "exclude");
  CheckRegexes(c.exclude, "exclude");

  const nlohmann::json secrets = j.value("secrets", nlohmann::json::object());
  c.secrets = secrets.value("enabled", true);
  if (secrets.contains("gitleaks_config"))
    c.gitleaks_config = secrets["gitleaks_config"].get<std::string>();
  c.decode_base64 = secrets.value("decode_base64", true);
  c.notebooks = secrets.value("notebooks", true);
  c.disabled_rules = Strings(secrets, "disabled_rules");
  if (secrets.contains("allowlist")) {
    const auto& a = secrets["allowlist"];
    c.allowlist.description = "config allowlist";
    c.allowlist.paths = Strings(a, "paths");
    c.allowlist.regexes = Strings(a, "regexes");
    c.allowlist.stopwords = Strings(a, "stopwords");
    for (auto& w : c.allowlist.stopwords) {
      for (auto& ch : w) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    CheckRegexes(c.allowlist.paths, "secrets.allowlist.paths");
    CheckRegexes(c.allowlist.regexes, "secrets.allowlist.regexes");
  }

  const nlohmann::json models = j.value("models", nlohmann::json::object());
  c.models = models.value("enabled", true);
  c.allow_globals = Strings(models, "allow_globals");
  c.unknown_global = ParseSeverity(models.value("unknown_global_severity", std::string("medium")))
                         .value_or(Severity::kMedium);

  const nlohmann::json deps = j.value("dependencies", nlohmann::json::object());
  c.dependencies = deps.value("enabled", true);
  if (deps.contains("osv_db")) c.osv_db = deps["osv_db"].get<std::string>();
  c.unknown_advisory_severity = ParseSeverity(deps.value("unknown_severity", std::string("medium")))
                                    .value_or(Severity::kMedium);

  if (j.contains("baseline")) {
    c.baseline = j["baseline"]["path"].get<std::string>();
    c.baseline_required = j["baseline"].value("required", false);
  }
  if (j.contains("commit_sha")) c.commit_sha = j["commit_sha"].get<std::string>();
  if (j.contains("cache_dir")) c.cache_dir = j["cache_dir"].get<std::string>();
  return c;
}

}  // namespace stagehost::security_scan
