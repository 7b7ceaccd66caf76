// junit_reader_test.cc -- dialect rules on hand-written reports, and unusable input: malformed,
// truncated, wrong encoding, invalid UTF-8, billion laughs, not JUnit. Clear errors, no crash.
#include "junit_reader.h"

#include <gtest/gtest.h>

#include "normalise.h"
#include "test_helpers.h"

namespace stagehost::unit_test {
namespace {

std::string ErrorOf(std::string_view xml) {
  Report report;
  try {
    ReadJUnitBytes(xml, "r.xml", report);
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

#define EXPECT_ERROR(xml, needle)                                             \
  do {                                                                        \
    std::string message = ErrorOf(xml);                                       \
    EXPECT_NE(message.find(needle), std::string::npos) << "got: " << message; \
    EXPECT_EQ(message.rfind("report r.xml: ", 0), 0u) << message;             \
  } while (0)

TEST(JUnitReaderBadInput, Malformed) {
  EXPECT_ERROR("<testsuites><testsuite><testcase name='a'></testsuite></testsuites>",
               "malformed XML at line 1");
  EXPECT_ERROR("<testsuites>\n<testcase name='a' <oops/>\n</testsuites>", "line 2");
}

TEST(JUnitReaderBadInput, Truncated) {
  std::string full =
      "<?xml version=\"1.0\"?>\n<testsuites>\n  <testsuite name=\"s\">\n"
      "    <testcase classname=\"c\" name=\"a\" time=\"0.1\"/>\n"
      "    <testcase classname=\"c\" name=\"b\" time=\"0.1\"><failure message=\"x\">trace";
  EXPECT_ERROR(full, "truncated?");
  EXPECT_ERROR(full.substr(0, 40), "malformed XML");
}

TEST(JUnitReaderBadInput, EmptyFile) {
  EXPECT_ERROR("", "is empty");
  EXPECT_ERROR("  \n\t", "is empty");
}

TEST(JUnitReaderBadInput, WrongEncodingDeclaration) {
  EXPECT_ERROR("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuites/>",
               "declares encoding \"ISO-8859-1\"; only UTF-8");
  EXPECT_ERROR("\xFF\xFE<\0t\0", "UTF-16");
}

TEST(JUnitReaderBadInput, InvalidUtf8) {
  // Latin-1 "é" in a file that claims (by default) to be UTF-8.
  EXPECT_ERROR("<testsuites>\n<testsuite name=\"caf\xE9\"/></testsuites>",
               "not valid UTF-8 at byte 33 (line 2, column 21)");
  // Overlong encoding and a lone surrogate are invalid too.
  EXPECT_ERROR("<testsuites name=\"\xC0\xAF\"/>", "not valid UTF-8");
  EXPECT_ERROR("<testsuites name=\"\xED\xA0\x80\"/>", "not valid UTF-8");
  // Valid multi-byte text is fine.
  EXPECT_EQ(ErrorOf("<testsuites name=\"caf\xC3\xA9 \xF0\x9F\x98\x80\"/>"), "");
}

TEST(JUnitReaderBadInput, BillionLaughs) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  for (int i = 1; i <= 9; ++i) {
    xml += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k)
      xml += "&lol" + (i == 1 ? std::string() : std::to_string(i - 1)) + ";";
    xml += "\">\n";
  }
  xml += "]>\n<testsuites><testsuite name=\"&lol9;\"/></testsuites>\n";
  EXPECT_ERROR(xml, "DOCTYPE declaring entities (line 2, column 1)");
  EXPECT_ERROR(xml, "billion laughs");
  // External entities (XXE) are refused the same way.
  EXPECT_ERROR("<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><testsuites/>",
               "DOCTYPE declaring entities");
}

TEST(JUnitReaderBadInput, NotJUnit) {
  EXPECT_ERROR("<html><body/></html>", "root element <html> is not JUnit");
}

TEST(JUnitReaderBadInput, MissingFile) {
  Report report;
  try {
    ReadJUnitFile("/nonexistent/x.xml", "x.xml", report);
    FAIL() << "no error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("report x.xml: cannot open"), std::string::npos);
  }
}

TEST(JUnitReaderBadInput, RandomGarbageNeverCrashes) {
  // Cheap fuzzing: prefixes and byte flips of a valid report must read or throw UsageError.
  std::string base =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><testsuites><testsuite name=\"s\" package=\"p\">"
      "<testcase classname=\"c\" name=\"n\" time=\"1.5\"><failure message=\"m\"><![CDATA[x]]>"
      "</failure><system-out>o &amp; &#x41;</system-out></testcase></testsuite></testsuites>";
  unsigned seed = 7;
  for (int i = 0; i < 2000; ++i) {
    std::string mutated = base.substr(0, (seed = seed * 1103515245 + 12345) % (base.size() + 1));
    if (i % 2 == 0 && !mutated.empty()) {
      mutated[(seed >> 8) % mutated.size()] = static_cast<char>(seed >> 16);
    }
    Report report;
    try {
      ReadJUnitBytes(mutated, "fuzz", report);
    } catch (const UsageError&) {
    }
  }
}

TEST(JUnitReaderDialects, SurefireRerunsArePreserved) {
  Report report;
  ReadJUnitBytes(R"(<testsuite name="com.acme.FooTest" tests="2">
  <testcase classname="com.acme.FooTest" name="flaky" time="0.2">
    <flakyFailure message="boom" type="java.lang.AssertionError"><stackTrace>at Foo</stackTrace>
      <system-out>first try</system-out></flakyFailure>
  </testcase>
  <testcase classname="com.acme.FooTest" name="broken" time="0.1">
    <failure message="always" type="AssertionError">trace</failure>
    <rerunFailure message="always" type="AssertionError"><stackTrace>again</stackTrace></rerunFailure>
  </testcase>
</testsuite>)",
                 "TEST-com.acme.FooTest.xml", report);
  ASSERT_EQ(report.cases.size(), 2u);
  EXPECT_EQ(report.cases[0].verdict, Verdict::kPassed);
  ASSERT_EQ(report.cases[0].flaky.size(), 1u);
  EXPECT_EQ(report.cases[0].flaky[0].body, "at Foo");
  EXPECT_EQ(report.cases[0].flaky[0].system_out, "first try");
  EXPECT_EQ(report.cases[1].verdict, Verdict::kFailed);
  ASSERT_EQ(report.cases[1].reruns.size(), 1u);
  Counts c = CountCases(report.cases);
  EXPECT_EQ(c.flaky, 1u);
  EXPECT_EQ(c.failed, 1u);
}

TEST(JUnitReaderDialects, JestAndNestedSuites) {
  Report report;
  ReadJUnitBytes(R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="3" failures="1">
  <testsuite name="math" package="web">
    <testcase classname="math adds" name="math adds" time="0.002"/>
    <testcase classname="math divides" name="math divides" time="0.001">
      <failure>Error: expected 2 got 3
    at Object.&lt;anonymous&gt; (math.test.js:5:3)</failure>
    </testcase>
    <testsuite name="inner"><testcase name="no classname"><skipped/></testcase></testsuite>
  </testsuite>
</testsuites>)",
                 "jest.xml", report);
  ASSERT_EQ(report.cases.size(), 3u);
  EXPECT_EQ(report.cases[0].suite, "web.math");
  EXPECT_EQ(report.cases[1].verdict, Verdict::kFailed);
  EXPECT_NE(report.cases[1].body.find("Object.<anonymous>"), std::string_view::npos);
  // No classname: borrows the enclosing suite's name, as Jenkins does.
  EXPECT_EQ(report.cases[2].classname, "inner");
  EXPECT_EQ(report.cases[2].verdict, Verdict::kSkipped);
}

TEST(JUnitReaderDialects, SuiteLevelErrorBecomesInitCase) {
  Report report;
  ReadJUnitBytes(
      R"(<testsuite name="Broken"><error message="class failed to load">NoClassDefFoundError</error></testsuite>)",
      "s.xml", report);
  ASSERT_EQ(report.cases.size(), 1u);
  EXPECT_EQ(report.cases[0].name, "<init>");
  EXPECT_EQ(report.cases[0].verdict, Verdict::kError);
}

TEST(JUnitReaderDialects, FailureBeatsErrorBeatsSkipped) {
  Report report;
  ReadJUnitBytes(R"(<testsuites><testsuite name="s">
  <testcase classname="c" name="a"><skipped/><error message="e"/><failure message="f"/></testcase>
  <testcase classname="c" name="b"><skipped/><error message="e"/></testcase>
</testsuite></testsuites>)",
                 "p.xml", report);
  EXPECT_EQ(report.cases[0].verdict, Verdict::kFailed);
  EXPECT_EQ(report.cases[0].message, "f");
  EXPECT_EQ(report.cases[1].verdict, Verdict::kError);
}

TEST(Utf8, ValidPrefix) {
  EXPECT_EQ(ValidUtf8Prefix("plain ascii"), 11u);
  EXPECT_EQ(ValidUtf8Prefix("ab\xC3"), 2u);            // cut mid-character
  EXPECT_EQ(ValidUtf8Prefix("\xF4\x90\x80\x80"), 0u);  // above U+10FFFF
}

}  // namespace
}  // namespace stagehost::unit_test
