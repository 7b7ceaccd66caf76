// reports.h -- the four reports: JSON result, OpenMetrics metrics.txt, JUnit XML, Markdown summary.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config.h"
#include "result.h"

namespace stagehost::model_validation {

inline constexpr const char* kResultFile = "model-validation.json";
inline constexpr const char* kMetricsFile = "metrics.txt";
inline constexpr const char* kJUnitFile = "junit.xml";
inline constexpr const char* kSummaryFile = "summary.md";

// The result; its "metrics" and "slices" make it usable as the next run's baseline.
nlohmann::ordered_json ResultJson(const ValidationResult& r, const std::string& plugin_version);
// OpenMetrics text for GitLab's metrics report: one gauge family per metric, slices and drift
// as labels, ending with "# EOF".
std::string OpenMetricsText(const ValidationResult& r, const std::string& prefix);
// JUnit XML with one test case per check (failed check = failed case, skipped = skipped).
std::string JUnitXml(const ValidationResult& r);
// A Markdown summary for a merge-request note.
std::string MarkdownSummary(const ValidationResult& r);

// Shortest round-trip decimal text of a double.
std::string ExactNumber(double v);

}  // namespace stagehost::model_validation
