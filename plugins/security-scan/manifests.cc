// manifests.cc -- reading dependency manifests and lockfiles (see manifests.h).
#include "manifests.h"

#include <toml++/toml.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace stagehost::security_scan {
namespace {

std::string_view BaseName(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

[[noreturn]] void Fail(std::string_view path, const std::string& what) {
  throw std::runtime_error(std::string(path) + ": " + what);
}

void ParseRequirements(std::string_view text, Manifest& m) {
  std::uint32_t line_no = 0, first_line = 0;
  std::string logical;
  std::istringstream in{std::string(text)};
  std::string raw;
  while (std::getline(in, raw)) {
    ++line_no;
    if (logical.empty()) first_line = line_no;
    // A trailing backslash continues the requirement on the next line.
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    if (!raw.empty() && raw.back() == '\\') {
      logical += raw.substr(0, raw.size() - 1) + " ";
      continue;
    }
    logical += raw;
    std::string_view line = logical;
    // Comments start at " #" or at the line start.
    if (const std::size_t hash = line.find('#');
        hash != std::string_view::npos &&
        (hash == 0 || std::isspace(static_cast<unsigned char>(line[hash - 1])))) {
      line = line.substr(0, hash);
    }
    line = Trim(line);
    const std::string current(line);
    logical.clear();
    if (current.empty() || current[0] == '-') continue;  // -r, -c, --index-url, --hash ...
    std::string_view req = current;
    if (const std::size_t semi = req.find(';'); semi != std::string_view::npos)
      req = req.substr(0, semi);
    if (const std::size_t opt = req.find(" --"); opt != std::string_view::npos)
      req = req.substr(0, opt);
    req = Trim(req);
    std::size_t name_end = 0;
    while (name_end < req.size() &&
           (std::isalnum(static_cast<unsigned char>(req[name_end])) || req[name_end] == '-' ||
            req[name_end] == '_' || req[name_end] == '.')) {
      ++name_end;
    }
    if (name_end == 0) continue;  // a URL or path requirement: nothing to match
    const std::string name(req.substr(0, name_end));
    std::string_view rest = Trim(req.substr(name_end));
    if (rest.substr(0, 3) == "://") continue;    // a bare URL requirement
    if (!rest.empty() && rest.front() == '[') {  // extras
      const std::size_t close = rest.find(']');
      rest = close == std::string_view::npos ? std::string_view() : Trim(rest.substr(close + 1));
    }
    std::string_view version;
    if (rest.substr(0, 3) == "===") {
      version = Trim(rest.substr(3));
    } else if (rest.substr(0, 2) == "==" && rest.find(',') == std::string_view::npos) {
      version = Trim(rest.substr(2));
    }
    if (version.empty() || version.find('*') != std::string_view::npos) {
      m.unpinned.push_back(name + (rest.empty() ? "" : " " + std::string(rest)));
      continue;
    }
    m.dependencies.push_back({name, std::string(version), true, first_line});
  }
}

void ParsePoetryLock(std::string_view path, std::string_view text, Manifest& m) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(path));
  } catch (const toml::parse_error& e) {
    Fail(path,
         "line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  const toml::array* packages = root["package"].as_array();
  if (!packages) return;
  for (const toml::node& node : *packages) {
    const toml::table* t = node.as_table();
    if (!t) continue;
    const std::string name = (*t)["name"].value_or(std::string());
    const std::string version = (*t)["version"].value_or(std::string());
    if (name.empty() || version.empty()) Fail(path, "a [[package]] lacks name or version");
    m.dependencies.push_back({name, version, false, 0});
  }
}

nlohmann::json ParseJson(std::string_view path, std::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    Fail(path, std::string("invalid JSON: ") + e.what());
  }
}

void ParsePipfileLock(std::string_view path, std::string_view text, Manifest& m) {
  const nlohmann::json root = ParseJson(path, text);
  for (const char* section : {"default", "develop"}) {
    if (!root.contains(section) || !root[section].is_object()) continue;
    for (const auto& [name, spec] : root[section].items()) {
      if (!spec.is_object() || !spec.contains("version") || !spec["version"].is_string()) continue;
      std::string v = spec["version"].get<std::string>();
      if (v.rfind("==", 0) == 0) v = v.substr(2);
      m.dependencies.push_back({name, v, std::string(section) == "default", 0});
    }
  }
}

void NpmV1(const nlohmann::json& deps, bool direct, Manifest& m) {
  for (const auto& [name, spec] : deps.items()) {
    if (!spec.is_object()) continue;
    if (spec.contains("version") && spec["version"].is_string()) {
      m.dependencies.push_back({name, spec["version"].get<std::string>(), direct, 0});
    }
    if (spec.contains("dependencies") && spec["dependencies"].is_object()) {
      NpmV1(spec["dependencies"], false, m);
    }
  }
}

void ParsePackageLock(std::string_view path, std::string_view text, Manifest& m) {
  const nlohmann::json root = ParseJson(path, text);
  if (!root.is_object()) Fail(path, "expected a JSON object");
  if (root.contains("packages") && root["packages"].is_object()) {
    // v2/v3: "node_modules/a/node_modules/b" -> the package name is after the last node_modules/.
    for (const auto& [key, spec] : root["packages"].items()) {
      const std::size_t at = key.rfind("node_modules/");
      if (at == std::string::npos || !spec.is_object()) continue;  // "" is the project itself
      if (spec.value("link", false)) continue;
      if (!spec.contains("version") || !spec["version"].is_string()) continue;
      const std::string name = spec.contains("name") && spec["name"].is_string()
                                   ? spec["name"].get<std::string>()
                                   : key.substr(at + 13);
      const bool direct = key.find("node_modules/") == at && at == 0;
      m.dependencies.push_back({name, spec["version"].get<std::string>(), direct, 0});
    }
    return;
  }
  if (root.contains("dependencies") && root["dependencies"].is_object()) {
    NpmV1(root["dependencies"], true, m);
  }
}

}  // namespace

std::optional<std::string> ManifestKind(std::string_view rel_path) {
  const std::string_view base = BaseName(rel_path);
  if (base == "poetry.lock") return "poetry";
  if (base == "Pipfile.lock") return "pipenv";
  if (base == "package-lock.json" || base == "npm-shrinkwrap.json") return "npm";
  if (base.rfind("requirements", 0) == 0 && base.size() > 4 &&
      base.substr(base.size() - 4) == ".txt") {
    return "pip";
  }
  return std::nullopt;
}

Manifest ParseManifest(std::string_view rel_path, std::string_view contents) {
  Manifest m;
  m.path = std::string(rel_path);
  const auto kind = ManifestKind(rel_path);
  if (!kind) Fail(rel_path, "not a dependency manifest");
  m.package_manager = *kind;
  if (*kind == "npm") {
    m.ecosystem = Ecosystem::kNpm;
    ParsePackageLock(rel_path, contents, m);
  } else {
    m.ecosystem = Ecosystem::kPyPI;
    if (*kind == "pip") ParseRequirements(contents, m);
    if (*kind == "poetry") ParsePoetryLock(rel_path, contents, m);
    if (*kind == "pipenv") ParsePipfileLock(rel_path, contents, m);
  }
  return m;
}

}  // namespace stagehost::security_scan
