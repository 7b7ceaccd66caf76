// `stagehost jenkins build|log` through the real binary against the fake Jenkins: console mirror
// byte-exact, exit codes per result, queue lifecycle, folders, parameters, crumbs, artifacts,
// JUnit, retries and the offset quirks of reliability.md R15.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <random>
#include <thread>

#include "integration/jenkins_fake.h"
#include "testutil/stagehost_cli.h"

namespace stagehost::testutil {
namespace {

const std::string kNote =
    "\x1b[8mha:AAAAWB+LCAAAAAAAAP9b85aBtbiIQTGjNKU4P08vOT+vOD8nVc8DwgsJ==\x1b[0m";

class JenkinsBuildTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(fake_.running()) << "fake Jenkins did not start"; }

  ProcessResult Run(std::vector<std::string> args, std::map<std::string, std::string> env = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    StagehostCall call;
    call.args = {"jenkins"};
    call.args.insert(call.args.end(), args.begin(), args.end());
    call.args.insert(call.args.end(), {"--poll", "0.1"});
    call.env = fake_.Env();
    for (auto& [k, v] : env) call.env[k] = v;
    call.timeout = timeout;
    return RunStagehost(call);
  }

  // `jenkins build JOB --follow ARGS...`, interrupted by `signal_number` after 1.5 s.
  ProcessResult RunCancelled(const std::string& job, std::vector<std::string> args,
                             int signal_number) {
    StagehostCall call;
    call.args = {"jenkins", "build", job, "--follow", "--poll", "0.1"};
    call.args.insert(call.args.end(), args.begin(), args.end());
    call.env = fake_.Env();
    call.signal_after = std::chrono::milliseconds(1500);
    call.signal_number = signal_number;
    return RunStagehost(call);
  }

  void AddJob(const std::string& name, nlohmann::json spec) {
    spec["name"] = name;
    fake_.Control("jobs", spec);
  }

  // Requests the fake saw whose path contains `part` (or equals it, with `exact`).
  std::vector<nlohmann::json> Requests(const std::string& part, bool exact = false) {
    std::vector<nlohmann::json> out;
    for (const auto& r : fake_.Get("requests")) {
      std::string path = r["path"].get<std::string>();
      if (exact ? path == part : path.find(part) != std::string::npos) out.push_back(r);
    }
    return out;
  }

  FakeJenkinsProcess fake_;
  TempDir dir_;
};

TEST_F(JenkinsBuildTest, FollowMirrorsConsoleByteExact) {
  // Pipeline-style notes, a line split across chunks, a final line without newline.
  nlohmann::json chunks = {"Started by user admin\n" + kNote + "[Pipeline] Start\n", "building ",
                           "half a line\n" + kNote + "[Pipeline] sh\n",
                           "+ make\n\tcompiled \xc3\xa9 utf-8\n", "no newline at the end"};
  AddJob("app", {{"script", {{"chunks", chunks}, {"interval_ms", 150}, {"result", "SUCCESS"}}}});
  ProcessResult r = Run({"build", "app", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "Started by user admin\n[Pipeline] Start\nbuilding half a line\n[Pipeline] sh\n"
            "+ make\n\tcompiled \xc3\xa9 utf-8\nno newline at the end");
  EXPECT_CONTAINS(r.err, "app #1 finished: SUCCESS");
  EXPECT_EQ(fake_.Get("stats")["start_beyond_length"], 0);
  // Non-parameterised job: /build, never buildWithParameters.
  EXPECT_EQ(Requests("/job/app/build", true).size(), 1u);
  EXPECT_TRUE(Requests("buildWithParameters").empty());
}

TEST_F(JenkinsBuildTest, ExitCodeForEachResult) {
  const std::map<std::string, int> expected = {
      {"SUCCESS", 0}, {"UNSTABLE", 1}, {"FAILURE", 1}, {"ABORTED", 1}, {"NOT_BUILT", 1}};
  for (const auto& [result, code] : expected) {
    AddJob("r-" + result,
           {{"script",
             {{"chunks", {"result " + result + "\n"}}, {"interval_ms", 20}, {"result", result}}}});
    ProcessResult r = Run({"build", "r-" + result, "--follow"});
    ASSERT_HOST_SURVIVED(r);
    EXPECT_EQ(r.exit_code, code) << result << ": " << r.err;
    EXPECT_EQ(r.out, "result " + result + "\n");
    EXPECT_CONTAINS(r.err, "finished: " + result);
  }
}

TEST_F(JenkinsBuildTest, WithoutFollowEndsWhenTheBuildStarts) {
  AddJob("quick", {{"script", {{"manual", true}}}});
  ProcessResult r = Run({"build", "quick"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_CONTAINS(r.err, "build started: " + fake_.url() + "/job/quick/1/");
}

TEST_F(JenkinsBuildTest, FolderJobWithParametersUsesBuildWithParameters) {
  AddJob(
      "team/svc/deploy",
      {{"params", {{{"name", "ENV"}, {"default", "staging"}}, {{"name", "V"}, {"default", "1"}}}},
       {"script", {{"chunks", {"deploying\n"}}, {"interval_ms", 20}}}});
  ProcessResult r = Run({"build", "team/svc/deploy", "--param", "ENV=prod env", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "deploying\n");
  nlohmann::json queue = fake_.Get("queue");
  ASSERT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue[0]["params"], (nlohmann::json{{"ENV", "prod env"}, {"V", "1"}}));
  EXPECT_EQ(Requests("/job/team/job/svc/job/deploy/buildWithParameters").size(), 1u);
  // A parameterised job without --param still goes through buildWithParameters (defaults).
  r = Run({"build", "team/svc/deploy"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Requests("/job/team/job/svc/job/deploy/buildWithParameters").size(), 2u);
  EXPECT_TRUE(Requests("/job/team/job/svc/job/deploy/build", true).empty());
}

TEST_F(JenkinsBuildTest, UnknownParameterAndParamsOnPlainJobAreRefused) {
  AddJob("p", {{"params", {{{"name", "ENV"}, {"default", "x"}}}}});
  AddJob("plain", nlohmann::json::object());
  ProcessResult r = Run({"build", "p", "--param", "ENVV=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "job p has no parameter 'ENVV' (it has: ENV)");
  r = Run({"build", "plain", "--param", "A=1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "takes no parameters");
  r = Run({"build", "missing/job"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "HTTP 404");
  // Nothing was triggered: every refusal happened before the POST.
  for (const auto& req : fake_.Get("requests")) EXPECT_NE(req["method"], "POST") << req["path"];
}

TEST_F(JenkinsBuildTest, QueueItemCancelledInJenkins) {
  AddJob("held", {{"hold_in_queue", true}});
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    FakeJenkinsProcess& f = fake_;
    nlohmann::json queue = f.Get("queue");
    if (!queue.empty()) f.Control("queue/cancel", {{"id", queue[0]["id"]}});
  });
  ProcessResult r = Run({"build", "held", "--follow"});
  canceller.join();
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "was cancelled in Jenkins: no build ran");
}

TEST_F(JenkinsBuildTest, ExpiredQueueItemFoundByQueueId) {
  // The left item expires at once, and the first polls 404 as on some setups: the client must
  // find the build through allBuilds[number,queueId], never lastBuild.
  fake_.Control("config", {{"left_expiry_s", 0}, {"first_poll_404", 1}});
  AddJob("gone", {{"script", {{"chunks", {"found me\n"}}, {"interval_ms", 300}}}});
  // An older build whose queueId does not match sits in the job already.
  fake_.Control("builds", {{"job", "gone"}, {"script", {{"manual", true}}}});
  ProcessResult r = Run({"build", "gone", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "found me\n");
  EXPECT_CONTAINS(r.err, "/job/gone/2/");
  EXPECT_FALSE(Requests("/job/gone/api/json").empty());
}

TEST_F(JenkinsBuildTest, PasswordAuthFetchesCrumbWithSessionCookie) {
  AddJob("np", {{"script", {{"chunks", {"ok\n"}}, {"interval_ms", 20}}}});
  ProcessResult r = Run({"build", "np", "--follow"}, fake_.Env(FakeJenkinsProcess::kPassword));
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ok\n");
  auto crumbs = Requests("/crumbIssuer/api/json");
  ASSERT_EQ(crumbs.size(), 1u);
  auto posts = Requests("/job/np/build", true);
  ASSERT_EQ(posts.size(), 2u);
  EXPECT_EQ(posts[0]["status"], 403);
  EXPECT_EQ(posts[1]["status"], 201);
  EXPECT_TRUE(posts[1]["headers"].contains("Jenkins-Crumb"));
  EXPECT_NE(posts[1]["headers"]["Cookie"].get<std::string>().find("JSESSIONID."),
            std::string::npos);
  // With an API token no crumb is ever asked for.
  r = Run({"build", "np"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Requests("/crumbIssuer/api/json").size(), 1u);
}

TEST_F(JenkinsBuildTest, CredentialsErrorsAreClear) {
  ProcessResult r = Run({"build", "x"}, {{"JENKINS_USER_ID", ""}, {"JENKINS_API_TOKEN", ""}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err,
                  "missing Jenkins credentials: set JENKINS_USER_ID (or --user), "
                  "JENKINS_API_TOKEN (or --token)");
  r = Run({"build", "x"}, {{"JENKINS_API_TOKEN", "wrong"}});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "HTTP 401, bad credentials");
}

TEST_F(JenkinsBuildTest, ArtifactsDownloadedByteExact) {
  std::mt19937 rng(7);
  std::string blob(300000, '\0');
  for (char& c : blob) c = static_cast<char>(rng());
  auto b64 = [](const std::string& s) {
    static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    size_t i = 0;
    for (; i + 2 < s.size(); i += 3) {
      unsigned v =
          (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8 | (unsigned char)s[i + 2];
      out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], a[v & 63]};
    }
    if (s.size() - i == 1) {
      unsigned v = (unsigned char)s[i] << 16;
      out += {a[v >> 18], a[(v >> 12) & 63], '=', '='};
    } else if (s.size() - i == 2) {
      unsigned v = (unsigned char)s[i] << 16 | (unsigned char)s[i + 1] << 8;
      out += {a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63], '='};
    }
    return out;
  };
  AddJob("art",
         {{"script",
           {{"chunks", {"archiving\n"}},
            {"interval_ms", 20},
            {"artifacts",
             {{"dist/model.bin", {{"b64", b64(blob)}}}, {"report with space.txt", "hi\r\n"}}}}}});
  std::string out = dir_.path() + "/arts";
  ProcessResult r = Run({"build", "art", "--artifacts", out});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256FileHex(out + "/dist/model.bin"), Sha256Hex(blob));
  EXPECT_EQ(ReadFile(out + "/report with space.txt"), "hi\r\n");
  EXPECT_FALSE(FileExists(out + "/dist/model.bin.part"));
}

TEST_F(JenkinsBuildTest, TestsPrintSummaryAndWriteJUnit) {
  nlohmann::json report = {
      {"duration", 0.75},
      {"passCount", 1},
      {"failCount", 1},
      {"skipCount", 0},
      {"suites",
       {{{"name", "suite"},
         {"duration", 0.75},
         {"cases",
          {{{"className", "t.A"}, {"name", "good"}, {"status", "PASSED"}, {"duration", 0.25}},
           {{"className", "t.A"},
            {"name", "bad"},
            {"status", "FAILED"},
            {"duration", 0.5},
            {"errorDetails", "boom"}}}}}}}};
  AddJob("tests", {{"script",
                    {{"chunks", {"testing\n"}},
                     {"interval_ms", 20},
                     {"result", "UNSTABLE"},
                     {"test_report", report}}}});
  ProcessResult r = Run({"build", "tests", "--tests", "--artifacts", dir_.path()});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_CONTAINS(r.err, "tests: 1 passed, 1 failed, 0 skipped (0.8 s)");
  EXPECT_CONTAINS(r.err, "FAILED t.A.bad: boom");
  std::string xml = ReadFile(dir_.path() + "/jenkins-junit.xml");
  EXPECT_CONTAINS(xml, R"(<testsuite name="suite" tests="2" failures="1")");
  EXPECT_CONTAINS(xml, R"(<testcase classname="t.A" name="bad" time="0.500">)");
  // No test report is a message, not a failure.
  AddJob("notests", {{"script", {{"interval_ms", 20}}}});
  r = Run({"build", "notests", "--tests", "--junit", dir_.path() + "/none.xml"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_CONTAINS(r.err, "the build has no test report");
}

TEST_F(JenkinsBuildTest, ServerErrorsAndResetsAreRetried) {
  AddJob("flaky", {{"script", {{"chunks", {"a\n", "b\n", "c\n"}}, {"interval_ms", 100}}}});
  fake_.Control("faults", {{"path_regex", "/api/json"}, {"status", 503}, {"count", 3}});
  fake_.Control("faults", {{"path_regex", "progressiveText"}, {"kind", "reset"}, {"count", 2}});
  fake_.Control("faults", {{"path_regex", "/build$"}, {"status", 502}, {"count", 1}});
  ProcessResult r = Run({"build", "flaky", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "a\nb\nc\n");
  EXPECT_CONTAINS(r.err, "HTTP 503; retry 1/");
  // The 502 on the trigger was retried into exactly one queue item.
  EXPECT_EQ(fake_.Get("queue").size(), 1u);
}

TEST_F(JenkinsBuildTest, PersistentServerErrorIsInfrastructureFailure) {
  AddJob("down", nlohmann::json::object());
  fake_.Control("faults", {{"path_regex", "/job/down/api/json"}, {"status", 500}, {"count", -1}});
  ProcessResult r = Run({"build", "down"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_CONTAINS(r.err, "HTTP 500");
}

// R15: gzip, CRLF, partial trailing line with X-Text-Size at file length, notes split across
// polls, a regressing offset, post-production log growth: no duplicated or lost text.
TEST_F(JenkinsBuildTest, R15GzipLargeLogIsExact) {
  std::string big;
  for (int i = 0; i < 400; ++i) big += kNote + "line " + std::to_string(i) + " of the big log\n";
  AddJob("big", {{"script", {{"chunks", {big, big}}, {"interval_ms", 100}}}});
  ProcessResult r = Run({"build", "big", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::string want;
  for (int rep = 0; rep < 2; ++rep)
    for (int i = 0; i < 400; ++i) want += "line " + std::to_string(i) + " of the big log\n";
  EXPECT_EQ(r.out, want);
  bool gzipped = false;
  for (const auto& req : Requests("progressiveText")) gzipped |= req.value("gzip", false);
  EXPECT_TRUE(gzipped) << "no progressiveText answer was gzip-compressed";
}

TEST_F(JenkinsBuildTest, R15NotesSplitAcrossPollsAndRawCrlf) {
  // Each answer carries at most 7 raw bytes, so every note and CRLF is cut somewhere.
  fake_.Control("config", {{"max_body_bytes", 7}});
  std::string raw = kNote + "[Pipeline] node\r\nwin line\r\n" + kNote + kNote + "x\n";
  AddJob("split", {{"script", {{"chunks", {raw}}, {"interval_ms", 20}}}});
  ProcessResult r = Run({"build", "split", "--follow"}, {}, std::chrono::seconds(60));
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[Pipeline] node\nwin line\nx\n");
}

TEST_F(JenkinsBuildTest, R15TextSizeAheadOfBodyRecoversTrailingLine) {
  fake_.Control("config", {{"size_is_file_length", true}});
  AddJob("partial",
         {{"script", {{"chunks", {"done line\n", "trailing partial"}}, {"interval_ms", 300}}}});
  ProcessResult r = Run({"build", "partial", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "done line\ntrailing partial");
}

TEST_F(JenkinsBuildTest, R15RegressingOffsetIsNotReprinted) {
  AddJob("stale",
         {{"script", {{"chunks", {"one\n", "two\n", "three\n", "four\n"}}, {"interval_ms", 250}}}});
  std::thread staler([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    fake_.Control("stale_once", {{"count", 2}});
  });
  ProcessResult r = Run({"build", "stale", "--follow"});
  staler.join();
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "one\ntwo\nthree\nfour\n");
  EXPECT_CONTAINS(r.err, "console offset went back");
}

TEST_F(JenkinsBuildTest, R15LogGrowingAfterResultIsFollowedToTheEnd) {
  // Freestyle post-production: building=false with a result while X-More-Data stays true.
  AddJob("post", {{"script",
                   {{"chunks", {"build\n"}},
                    {"tail_chunks", {"post 1\n", "post 2\n"}},
                    {"interval_ms", 300},
                    {"result", "FAILURE"}}}});
  ProcessResult r = Run({"build", "post", "--follow"});
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.out, "build\npost 1\npost 2\n");
}

TEST_F(JenkinsBuildTest, StopOnCancelStopsTheRemoteBuild) {
  AddJob("long", {{"script", {{"manual", true}}}});
  ProcessResult r = RunCancelled("long", {"--stop-on-cancel"}, SIGTERM);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_TRUE(r.signal_sent);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_CONTAINS(r.err, "stop requested for " + fake_.url() + "/job/long/1/");
  EXPECT_CONTAINS(r.err, "the remote build ended ABORTED");
  EXPECT_EQ(fake_.Get("stats")["stop_requests"], nlohmann::json({"stop"}));
  ProcessResult log = Run({"log", "long", "1"});
  EXPECT_EQ(log.out, "Aborted by admin\n");
}

// A Pipeline whose step ignores interrupts: stop, then term, then kill, each after --stop-grace
// without a result (jenkins-api.md §9).
TEST_F(JenkinsBuildTest, StubbornPipelineGetsTermThenKill) {
  AddJob("stuck",
         {{"pipeline", true}, {"script", {{"manual", true}, {"resists", {"stop", "term"}}}}});
  ProcessResult r = RunCancelled("stuck", {"--stop-on-cancel", "--stop-grace", "0.5"}, SIGINT);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(fake_.Get("stats")["stop_requests"], nlohmann::json({"stop", "term", "kill"}));
  EXPECT_CONTAINS(r.err, "still running 0.5 s after stop");
  EXPECT_CONTAINS(r.err, "kill requested for " + fake_.url() + "/job/stuck/1/");
  EXPECT_CONTAINS(r.err, "the remote build ended ABORTED");
  EXPECT_EQ(Run({"log", "stuck", "1"}).out, "Hard kill!\n");

  // One that yields to term is never killed.
  AddJob("slow", {{"pipeline", true}, {"script", {{"manual", true}, {"resists", {"stop"}}}}});
  r = RunCancelled("slow", {"--stop-on-cancel", "--stop-grace", "0.5"}, SIGINT);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(fake_.Get("stats")["stop_requests"],
            nlohmann::json({"stop", "term", "kill", "stop", "term"}));
  EXPECT_CONTAINS(r.err, "the remote build ended ABORTED");
}

// A freestyle build has no term or kill: the 404 ends the escalation with a clear message.
TEST_F(JenkinsBuildTest, StubbornFreestyleBuildStopsAtStop) {
  AddJob("free", {{"script", {{"manual", true}, {"resists", {"stop"}}}}});
  ProcessResult r = RunCancelled("free", {"--stop-on-cancel", "--stop-grace", "0.5"}, SIGTERM);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  // The term was sent and refused (404), so only the stop counts as accepted.
  EXPECT_EQ(Requests("/job/free/1/term").size(), 1u);
  EXPECT_EQ(fake_.Get("stats")["stop_requests"], nlohmann::json({"stop"}));
  EXPECT_CONTAINS(r.err, "term of " + fake_.url() + "/job/free/1/ failed");
  EXPECT_CONTAINS(r.err, "404");
}

TEST_F(JenkinsBuildTest, CancelWithoutStopLeavesTheBuildRunning) {
  AddJob("long", {{"script", {{"manual", true}}}});
  ProcessResult r = RunCancelled("long", {}, SIGINT);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_CONTAINS(r.err, "the remote build goes on");
  EXPECT_EQ(fake_.Get("stats")["stops"], 0);
}

TEST_F(JenkinsBuildTest, CancelEndsARequestTheServerLeftHanging) {
  AddJob("long", {{"script", {{"manual", true}}}});
  // The console request is accepted and never answered; without the abort flag the command would
  // sit in it until the client's 30 s idle timeout.
  fake_.Control("faults", {{"path_regex", "progressiveText"}, {"kind", "stall"}, {"seconds", 60}});
  ProcessResult r = RunCancelled("long", {"--stop-on-cancel"}, SIGINT);
  ASSERT_HOST_SURVIVED(r);
  EXPECT_TRUE(r.signal_sent);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_LT(r.wall, std::chrono::seconds(15)) << r.err;
  // The stop still went out after the aborted request.
  EXPECT_CONTAINS(r.err, "stop requested for " + fake_.url() + "/job/long/1/");
  EXPECT_EQ(fake_.Get("stats")["stops"], 1);
}

TEST_F(JenkinsBuildTest, LogCommandPrintsAndFollows) {
  AddJob("ext", {{"script", {{"manual", true}}}});
  nlohmann::json build = fake_.Control("builds", {{"job", "ext"}, {"script", {{"manual", true}}}});
  ASSERT_EQ(build["number"], 1);
  fake_.Control("append", {{"job", "ext"}, {"number", 1}, {"text", "first\n" + kNote + "sec"}});
  ProcessResult now = Run({"log", "ext", "1"});
  EXPECT_EQ(now.exit_code, 0) << now.err;
  EXPECT_EQ(now.out, "first\n");  // a running build shows complete lines only
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    fake_.Control("append", {{"job", "ext"}, {"number", 1}, {"text", "ond\nthird\n"}});
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    fake_.Control("finish", {{"job", "ext"}, {"number", 1}, {"result", "UNSTABLE"}});
  });
  ProcessResult followed = Run({"log", "ext", "1", "--follow"});
  writer.join();
  ASSERT_HOST_SURVIVED(followed);
  EXPECT_EQ(followed.exit_code, 1) << followed.err;
  EXPECT_EQ(followed.out, "first\nsecond\nthird\n");
  EXPECT_EQ(Run({"log", "ext", "9"}).exit_code, 2);
}

}  // namespace
}  // namespace stagehost::testutil
