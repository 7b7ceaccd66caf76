// A Jenkins JUnit test report (testReport/api/json) as a one-paragraph summary and as JUnit XML,
// so a caller (a GitLab job, say) can publish the remote build's tests as its own.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "util/status.h"

namespace stagehost::jenkins {

struct TestSummary {
  long passed = 0;
  long failed = 0;
  long skipped = 0;
  double duration_s = 0;
};

Result<TestSummary> SummariseTestReport(const nlohmann::json& report);
// "tests: 12 passed, 1 failed, 2 skipped (3.2 s)" and one line per failed case.
std::string FormatTestSummary(const nlohmann::json& report, const TestSummary& summary);
// <testsuites> with one <testsuite> per suite; FAILED/REGRESSION -> <failure>, SKIPPED ->
// <skipped>.
Result<std::string> TestReportToJUnit(const nlohmann::json& report);

}  // namespace stagehost::jenkins
