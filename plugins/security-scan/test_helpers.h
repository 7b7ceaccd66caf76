// test_helpers.h -- shared helpers of the security-scan tests: files, scanning a directory with
// the built-in rules, and schema validation with valijson.
#pragma once

#include <gtest/gtest.h>
#include <stagehost/stage.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "config.h"
#include "scan.h"

namespace stagehost::security_scan::testing {

namespace sdk = stagehost::sdk;

inline void WriteText(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << path;
}

inline std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

inline ScanResult ScanDir(const std::string& dir,
                          const nlohmann::json& config = nlohmann::json::object()) {
  return RunScan(ParseConfig(config), dir);
}

// Validates `doc` against the JSON schema file; returns the errors (empty = valid). Defined in
// reports_test.cc.
std::string SchemaErrors(const std::string& schema_path, const nlohmann::json& doc);

}  // namespace stagehost::security_scan::testing
