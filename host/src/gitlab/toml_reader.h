// TomlReader: reads typed keys of a TOML table and collects every problem with its line.
#pragma once

#include <fmt/format.h>
#include <toml++/toml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace stagehost::gitlab {

// Configuration files are read in one pass that reports all problems at once, each as
// "file:line: key: what is wrong", instead of stopping at the first.
class TomlReader {
 public:
  explicit TomlReader(std::string file) : file_(std::move(file)) {}

  void Path(const toml::table& table, const char* key, std::filesystem::path& out) {
    if (const toml::node* node = table.get(key)) {
      if (auto value = node->value<std::string>(); value && !value->empty() && (*value)[0] == '/') {
        out = *value;
      } else {
        Problem(node, key, "must be an absolute path");
      }
    }
  }
  void Bool(const toml::table& table, const char* key, bool& out) {
    if (const toml::node* node = table.get(key)) {
      if (auto value = node->value<bool>()) {
        out = *value;
      } else {
        Problem(node, key, "must be true or false");
      }
    }
  }
  void String(const toml::table& table, const char* key, std::string& out) {
    if (const toml::node* node = table.get(key)) {
      if (auto value = node->value<std::string>(); value && !value->empty()) {
        out = *value;
      } else {
        Problem(node, key, "must be a non-empty string");
      }
    }
  }
  void Count(const toml::table& table, const char* key, uint64_t& out) {
    if (const toml::node* node = table.get(key)) {
      if (auto value = node->value<int64_t>(); value && *value >= 0) {
        out = static_cast<uint64_t>(*value);
      } else {
        Problem(node, key, "must be a whole number >= 0");
      }
    }
  }
  void Seconds(const toml::table& table, const char* key, std::chrono::milliseconds& out) {
    if (const toml::node* node = table.get(key)) {
      if (auto value = node->value<double>(); value && *value >= 0) {
        out = std::chrono::milliseconds(static_cast<int64_t>(*value * 1000));
      } else {
        Problem(node, key, "must be a number of seconds >= 0");
      }
    }
  }
  void Unknown(const toml::table& table, const std::set<std::string>& known) {
    for (const auto& [key, node] : table) {
      if (!known.count(std::string(key.str())))
        Problem(&node, std::string(key.str()), "unknown key");
    }
  }
  const std::vector<std::string>& problems() const { return problems_; }
  // The table the following keys belong to, for messages ("limits.").
  void Within(std::string prefix) { prefix_ = std::move(prefix); }

  void Problem(const toml::node* node, const std::string& key, const std::string& what) {
    problems_.push_back(
        fmt::format("{}:{}: {}{}: {}", file_, node->source().begin.line, prefix_, key, what));
  }

 private:
  std::string file_;
  std::string prefix_;
  std::vector<std::string> problems_;
};

}  // namespace stagehost::gitlab
