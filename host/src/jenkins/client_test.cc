// Pure parts of the Jenkins client: job paths, credentials, error mapping, artifact confinement,
// test report conversion.
#include "jenkins/client.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "jenkins/remote_build.h"
#include "jenkins/test_report.h"

namespace stagehost::jenkins {
namespace {

TEST(JenkinsJobPathTest, FoldersAndEscaping) {
  EXPECT_EQ(*JobPath("api"), "/job/api");
  EXPECT_EQ(*JobPath("team/svc/api"), "/job/team/job/svc/job/api");
  EXPECT_EQ(*JobPath("a b/c%d"), "/job/a%20b/job/c%25d");
  EXPECT_FALSE(JobPath("").ok());
  EXPECT_FALSE(JobPath("a//b").ok());
  EXPECT_FALSE(JobPath("a/../b").ok());
  EXPECT_FALSE(JobPath("a/").ok());
}

TEST(JenkinsCredentialsTest, FlagsWinAndMissingNamesVariables) {
  setenv("JENKINS_URL", "https://ci.example/jenkins/", 1);
  unsetenv("JENKINS_USER_ID");
  unsetenv("JENKINS_API_TOKEN");
  Result<Credentials> missing = ResolveCredentials("", "", "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("JENKINS_USER_ID"), std::string::npos);
  EXPECT_NE(missing.status().message().find("JENKINS_API_TOKEN"), std::string::npos);
  EXPECT_EQ(missing.status().message().find("JENKINS_URL"), std::string::npos);
  Result<Credentials> given = ResolveCredentials("", "me", "tok");
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->url, "https://ci.example/jenkins");  // trailing slash trimmed
  EXPECT_EQ(ResolveCredentials("http://other", "me", "tok")->url, "http://other");
  EXPECT_FALSE(ResolveCredentials("ftp://x", "me", "tok").ok());
  unsetenv("JENKINS_URL");
}

TEST(JenkinsHttpErrorTest, NamesPermissionAndCredentials) {
  net::Response r;
  r.status = 403;
  r.headers.push_back({"X-Required-Permission", "hudson.model.Item.Build"});
  Status s = HttpError(r, "POST /job/x/build");
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("permission missing: hudson.model.Item.Build"), std::string::npos);
  r.status = 401;
  r.headers.clear();
  EXPECT_NE(HttpError(r, "GET /").message().find("bad credentials"), std::string::npos);
  r.status = 503;
  EXPECT_EQ(HttpError(r, "GET /").code(), StatusCode::kUnavailable);
  r.status = 400;
  r.body = "<html><body>Nothing is submitted</body></html>";
  EXPECT_NE(HttpError(r, "POST").message().find("Nothing is submitted"), std::string::npos);
}

TEST(JenkinsArtifactPathTest, ConfinedToDirectory) {
  EXPECT_EQ(*ConfinedPath("/d", "out/a.bin"), std::filesystem::path("/d/out/a.bin"));
  EXPECT_FALSE(ConfinedPath("/d", "../etc/passwd").ok());
  EXPECT_FALSE(ConfinedPath("/d", "a/../../b").ok());
  EXPECT_FALSE(ConfinedPath("/d", "/etc/passwd").ok());
  EXPECT_FALSE(ConfinedPath("/d", "").ok());
}

TEST(JenkinsTestReportTest, SummaryAndJUnit) {
  nlohmann::json report = nlohmann::json::parse(R"({
    "_class": "hudson.tasks.junit.TestResult", "duration": 1.5, "passCount": 2,
    "failCount": 1, "skipCount": 1, "suites": [{"name": "s<1>", "duration": 1.5, "cases": [
      {"className": "pkg.A", "name": "ok", "status": "PASSED", "duration": 0.5},
      {"className": "pkg.A", "name": "fixed", "status": "FIXED", "duration": 0.5},
      {"className": "pkg.A", "name": "bad", "status": "REGRESSION", "duration": 0.5,
       "errorDetails": "expected 1 & got 2\nmore", "errorStackTrace": "at A.bad"},
      {"className": "pkg.A", "name": "later", "status": "SKIPPED", "duration": 0,
       "skippedMessage": "flaky"}]}]})");
  Result<TestSummary> s = SummariseTestReport(report);
  ASSERT_TRUE(s.ok());
  std::string text = FormatTestSummary(report, *s);
  EXPECT_NE(text.find("tests: 2 passed, 1 failed, 1 skipped (1.5 s)"), std::string::npos);
  EXPECT_NE(text.find("FAILED pkg.A.bad: expected 1 & got 2\n"), std::string::npos);
  Result<std::string> xml = TestReportToJUnit(report);
  ASSERT_TRUE(xml.ok());
  EXPECT_NE(xml->find(R"(<testsuites tests="4" failures="1" errors="0" skipped="1")"),
            std::string::npos);
  EXPECT_NE(xml->find(R"(<testsuite name="s&lt;1&gt;" tests="4" failures="1")"), std::string::npos);
  EXPECT_NE(xml->find(R"(<failure message="expected 1 &amp; got 2)"), std::string::npos);
  EXPECT_NE(xml->find(R"(<skipped message="flaky"/>)"), std::string::npos);
  EXPECT_FALSE(SummariseTestReport(nlohmann::json::array()).ok());
}

}  // namespace
}  // namespace stagehost::jenkins
