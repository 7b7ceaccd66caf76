// config.h -- the security-scan configuration as C++ values (keys: config_schema.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "findings.h"
#include "rules.h"

namespace stagehost::security_scan {

struct Config {
  std::optional<Severity> fail_on = Severity::kHigh;  // nullopt = never
  std::uint64_t max_file_bytes = 10u << 20;
  std::uint64_t max_model_bytes = std::uint64_t{2} << 30;
  unsigned threads = 0;
  std::vector<std::string> skip_dirs;
  std::vector<std::string> exclude;

  bool secrets = true;
  std::optional<std::string> gitleaks_config;
  bool decode_base64 = true;
  bool notebooks = true;
  std::vector<std::string> disabled_rules;
  Allowlist allowlist;

  bool models = true;
  std::vector<std::string> allow_globals;
  Severity unknown_global = Severity::kMedium;

  bool dependencies = true;
  std::optional<std::string> osv_db;
  Severity unknown_advisory_severity = Severity::kMedium;

  std::optional<std::string> baseline;
  bool baseline_required = false;
  std::optional<std::string> commit_sha;
  std::optional<std::string> cache_dir;  // compiled Hyperscan database kept across runs
};

// Reads a config already validated against kConfigSchema, filling defaults. Throws
// stagehost::sdk::BadConfig for values the schema cannot check (e.g. an invalid regex).
Config ParseConfig(const nlohmann::json& j);

}  // namespace stagehost::security_scan
