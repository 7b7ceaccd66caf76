// junit_reader.h -- reads one JUnit XML file of any dialect (pytest, GoogleTest, CTest, Surefire,
// Jest/Mocha) into the test model, after checking that it is safe and complete XML.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "junit_model.h"

namespace stagehost::unit_test {

// Reads `path` (shown as `display` in messages) and appends its test cases to `report`, applying
// the dialect rules (GoogleTest notrun/suppressed and CTest disabled become skipped, ...).
// Throws UsageError naming the file and the problem: empty, not UTF-8, a non-UTF-8 encoding
// declaration, a DOCTYPE declaring entities, malformed or truncated XML, a non-JUnit root.
void ReadJUnitFile(const std::string& path, const std::string& display, Report& report);

// The same for bytes already in memory (copied into the report's arena).
void ReadJUnitBytes(std::string_view bytes, const std::string& display, Report& report);

// Returns the length of the longest valid UTF-8 prefix of `bytes` (== size when all valid).
std::size_t ValidUtf8Prefix(std::string_view bytes);

}  // namespace stagehost::unit_test
