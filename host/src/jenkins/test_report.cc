// Test report conversion: Jenkins' junit-plugin JSON (TestResult/SuiteResult/CaseResult) to text
// and JUnit XML.
#include "jenkins/test_report.h"

#include <fmt/format.h>

namespace stagehost::jenkins {
namespace {

std::string Xml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters other than tab/LF/CR are not allowed in XML 1.0.
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "?";
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::string Str(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return {};
  return it->is_string() ? it->get<std::string>() : it->dump();
}

double Num(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

bool IsFailure(const std::string& status) { return status == "FAILED" || status == "REGRESSION"; }

const nlohmann::json& Suites(const nlohmann::json& report) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  auto it = report.find("suites");
  return it != report.end() && it->is_array() ? *it : kEmpty;
}

}  // namespace

Result<TestSummary> SummariseTestReport(const nlohmann::json& report) {
  if (!report.is_object()) return InvalidArgument("test report is not a JSON object");
  TestSummary s;
  s.passed = static_cast<long>(Num(report, "passCount"));
  s.failed = static_cast<long>(Num(report, "failCount"));
  s.skipped = static_cast<long>(Num(report, "skipCount"));
  s.duration_s = Num(report, "duration");
  return s;
}

std::string FormatTestSummary(const nlohmann::json& report, const TestSummary& s) {
  std::string out = fmt::format("tests: {} passed, {} failed, {} skipped ({:.1f} s)\n", s.passed,
                                s.failed, s.skipped, s.duration_s);
  for (const auto& suite : Suites(report)) {
    auto cases = suite.find("cases");
    if (cases == suite.end() || !cases->is_array()) continue;
    for (const auto& c : *cases) {
      if (!IsFailure(Str(c, "status"))) continue;
      std::string details = Str(c, "errorDetails");
      out += fmt::format("  FAILED {}.{}{}\n", Str(c, "className"), Str(c, "name"),
                         details.empty() ? "" : ": " + details.substr(0, details.find('\n')));
    }
  }
  return out;
}

Result<std::string> TestReportToJUnit(const nlohmann::json& report) {
  STAGEHOST_ASSIGN_OR_RETURN(TestSummary total, SummariseTestReport(report));
  std::string body;
  for (const auto& suite : Suites(report)) {
    long tests = 0, failures = 0, skipped = 0;
    std::string cases_xml;
    auto cases = suite.find("cases");
    if (cases != suite.end() && cases->is_array()) {
      for (const auto& c : *cases) {
        ++tests;
        std::string status = Str(c, "status");
        cases_xml += fmt::format(R"(    <testcase classname="{}" name="{}" time="{:.3f}")",
                                 Xml(Str(c, "className")), Xml(Str(c, "name")), Num(c, "duration"));
        if (IsFailure(status)) {
          ++failures;
          cases_xml +=
              fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                          Xml(Str(c, "errorDetails")), Xml(Str(c, "errorStackTrace")));
        } else if (status == "SKIPPED") {
          ++skipped;
          cases_xml += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                                   Xml(Str(c, "skippedMessage")));
        } else {
          cases_xml += "/>\n";
        }
      }
    }
    body += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" "
        "time=\"{:.3f}\">\n{}  </testsuite>\n",
        Xml(Str(suite, "name")), tests, failures, skipped, Num(suite, "duration"), cases_xml);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3f}\">\n"
      "{}</testsuites>\n",
      total.passed + total.failed + total.skipped, total.failed, total.skipped, total.duration_s,
      body);
}

}  // namespace stagehost::jenkins
