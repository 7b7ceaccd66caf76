// gitleaks_config.cc -- reads a project's gitleaks TOML config into a RuleSet with toml++, so teams
// can switch to stagehost without rewriting their rules.
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "rules.h"

namespace stagehost::security_scan {
namespace {

[[noreturn]] void Fail(const std::string& file, const std::string& what) {
  throw std::runtime_error(file + ": " + what);
}

std::vector<std::string> Strings(const toml::node_view<const toml::node>& node,
                                 const std::string& file, const std::string& key) {
  std::vector<std::string> out;
  if (!node) return out;
  const toml::array* arr = node.as_array();
  if (!arr) Fail(file, key + " must be an array of strings");
  for (const toml::node& item : *arr) {
    const auto* s = item.as_string();
    if (!s) Fail(file, key + " must be an array of strings");
    out.push_back(s->get());
  }
  return out;
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

Allowlist ReadAllowlist(const toml::table& t, const std::string& file, const std::string& where) {
  Allowlist a;
  a.description = t["description"].value_or(std::string());
  const std::string condition = Lower(t["condition"].value_or(std::string("OR")));
  if (condition != "or" && condition != "and") {
    Fail(file, where + ".condition must be \"OR\" or \"AND\", not \"" + condition + "\"");
  }
  a.match_all = condition == "and";
  a.paths = Strings(t["paths"], file, where + ".paths");
  a.regexes = Strings(t["regexes"], file, where + ".regexes");
  a.stopwords = Strings(t["stopwords"], file, where + ".stopwords");
  for (auto& w : a.stopwords) w = Lower(w);
  a.regex_target = t["regexTarget"].value_or(std::string("secret"));
  if (a.regex_target != "secret" && a.regex_target != "match" && a.regex_target != "line") {
    Fail(file, where + ".regexTarget must be secret, match or line");
  }
  // `commits` needs git history, which a workspace scan does not have: accepted and ignored.
  return a;
}

// [allowlist] (before v8.25) or [[allowlists]] (since): both are read.
void ReadAllowlists(const toml::table& t, const std::string& file, const std::string& where,
                    std::vector<Allowlist>& out) {
  if (const toml::table* single = t["allowlist"].as_table()) {
    Allowlist a = ReadAllowlist(*single, file, where + "allowlist");
    if (!a.empty()) out.push_back(a);
  }
  if (auto node = t["allowlists"]) {
    const toml::array* arr = node.as_array();
    if (!arr) Fail(file, where + "allowlists must be an array of tables ([[allowlists]])");
    for (std::size_t i = 0; i < arr->size(); ++i) {
      const toml::table* at = (*arr)[i].as_table();
      if (!at) Fail(file, where + "allowlists[" + std::to_string(i) + "] must be a table");
      Allowlist a = ReadAllowlist(*at, file, where + "allowlists[" + std::to_string(i) + "]");
      if (!a.empty()) out.push_back(a);
    }
  }
}

RuleSet Load(const std::string& path, int depth) {
  if (depth > 4) Fail(path, "[extend] path chain deeper than 4 files");
  toml::table root;
  try {
    root = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    Fail(path, "line " + std::to_string(where.line) + ": " + std::string(e.description()));
  }

  RuleSet set;
  std::set<std::string> disabled;
  if (const toml::table* extend = root["extend"].as_table()) {
    const bool use_default = extend->get("useDefault") && (*extend)["useDefault"].value_or(false);
    const std::string base = (*extend)["path"].value_or(std::string());
    if (use_default && !base.empty()) Fail(path, "[extend] sets both useDefault and path");
    if (use_default) set = BuiltinRules();
    if (!base.empty()) {
      std::filesystem::path p(base);
      if (p.is_relative()) p = std::filesystem::path(path).parent_path() / p;
      set = Load(p.string(), depth + 1);
    }
    for (const auto& id : Strings((*extend)["disabledRules"], path, "extend.disabledRules")) {
      disabled.insert(id);
    }
  }
  ReadAllowlists(root, path, "", set.allowlists);

  if (auto rules_node = root["rules"]) {
    const toml::array* rules = rules_node.as_array();
    if (!rules) Fail(path, "rules must be an array of tables ([[rules]])");
    for (std::size_t i = 0; i < rules->size(); ++i) {
      const toml::table* t = (*rules)[i].as_table();
      const std::string where = "rules[" + std::to_string(i) + "]";
      if (!t) Fail(path, where + " must be a table");
      Rule r;
      r.id = (*t)["id"].value_or(std::string());
      if (r.id.empty()) Fail(path, where + " has no id");
      r.description = (*t)["description"].value_or(r.id);
      r.regex = (*t)["regex"].value_or(std::string());
      r.path = (*t)["path"].value_or(std::string());
      if (r.regex.empty() && r.path.empty()) {
        Fail(path, "rule " + r.id + " has neither regex nor path");
      }
      r.secret_group = static_cast<int>((*t)["secretGroup"].value_or(std::int64_t{0}));
      r.entropy = (*t)["entropy"].value_or(0.0);
      r.keywords = Strings((*t)["keywords"], path, "rule " + r.id + " keywords");
      for (auto& k : r.keywords) k = Lower(k);
      r.tags = Strings((*t)["tags"], path, "rule " + r.id + " tags");
      ReadAllowlists(*t, path, "rule " + r.id + " ", r.allowlists);
      // A rule with the id of an extended one replaces it.
      auto same = std::find_if(set.rules.begin(), set.rules.end(),
                               [&](const Rule& o) { return o.id == r.id; });
      if (same != set.rules.end()) {
        *same = r;
      } else {
        set.rules.push_back(r);
      }
    }
  }
  std::erase_if(set.rules, [&](const Rule& r) { return disabled.count(r.id) > 0; });
  set.source = path;
  return set;
}

}  // namespace

RuleSet LoadGitleaksConfig(const std::string& path) { return Load(path, 0); }

}  // namespace stagehost::security_scan
