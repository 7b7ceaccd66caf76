// rules.h -- secret detection rules in gitleaks' model (regex, secretGroup, entropy, keywords,
// path, allowlists) and stagehost's own built-in rule set.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "findings.h"

namespace stagehost::security_scan {

// One allowlist (gitleaks' [[rules.allowlists]] / [[allowlists]]). With condition OR a finding
// is allowed when any criterion matches; with AND when every criterion that is set matches.
struct Allowlist {
  std::string description;
  bool match_all = false;               // condition = "AND"
  std::vector<std::string> paths;       // RE2 regexes over the relative path
  std::vector<std::string> regexes;     // RE2 regexes over regex_target
  std::string regex_target = "secret";  // secret | match | line
  std::vector<std::string> stopwords;   // case-insensitive substrings of the secret
  bool empty() const { return paths.empty() && regexes.empty() && stopwords.empty(); }
};

struct Rule {
  std::string id;
  std::string description;
  std::string regex;     // RE2 syntax; empty for a path-only rule
  int secret_group = 0;  // 0: the first capture group if any, else the whole match
  double entropy = 0;    // a secret at or below this entropy is dropped
  std::string path;      // RE2 regex over the relative path; the rule applies only there
  std::vector<std::string> keywords;  // lower case; at least one must occur in the line
  std::vector<std::string> tags;
  std::vector<Allowlist> allowlists;
  Severity severity = Severity::kHigh;
  bool multiline = false;  // the match may span lines (private keys)
  // Built-in multi-line rules only: what Hyperscan looks for (with start of match); `regex` then
  // confirms from that start. Empty: Hyperscan uses `regex` itself.
  std::string hs_regex;
};

// The global part of a rule set.
struct RuleSet {
  std::vector<Rule> rules;
  std::vector<Allowlist> allowlists;  // apply to every rule
  std::string source;                 // "built-in", or the gitleaks config path
};

// stagehost's own rules: cloud keys, VCS/CI tokens, chat webhooks, payment keys, private keys,
// JWTs, package-registry and AI-provider tokens, generic high-entropy assignments.
RuleSet BuiltinRules();

// Reads a gitleaks TOML config ([[rules]], [allowlist] and [[allowlists]], [extend] with
// useDefault = our built-in set, path = another gitleaks file, disabledRules). Throws
// std::runtime_error with "<file>: <problem>" on unreadable or invalid input.
RuleSet LoadGitleaksConfig(const std::string& path);

}  // namespace stagehost::security_scan
