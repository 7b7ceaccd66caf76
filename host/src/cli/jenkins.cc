// `stagehost jenkins build|log`: trigger and follow Jenkins jobs from outside; the build's console
// goes to stdout unchanged, stagehost's messages to stderr, the Jenkins result picks the exit code.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "cli/cancel_signals.h"
#include "cli/cli.h"
#include "jenkins/client.h"
#include "jenkins/remote_build.h"
#include "jenkins/test_report.h"
#include "job/stage_outcome.h"
#include "log/byte_sink.h"

namespace stagehost::cli {
namespace {

struct JenkinsFlags {
  std::string url, user, token;
  std::string job;
  std::int64_t number = 0;
  std::vector<std::string> params;
  bool follow = false;
  std::string artifacts;
  bool tests = false;
  std::string junit;
  double timeout_s = 0;
  double poll_s = 1.0;
  bool stop_on_cancel = false;
  double stop_grace_s = 10;
};

void Message(const std::string& text) { fmt::print(stderr, "stagehost: {}\n", text); }

int Fail(const Status& status) {
  Message(status.message());
  return kExitSystemFailure;
}

// 0 SUCCESS; 1 UNSTABLE, FAILURE, ABORTED, NOT_BUILT (Jenkins reached a verdict that is not a
// pass); 2 anything else.
int ExitCodeForResult(const std::string& result) {
  if (result == "SUCCESS") return kExitPassed;
  if (result == "UNSTABLE" || result == "FAILURE" || result == "ABORTED" || result == "NOT_BUILT") {
    return kExitStageFailed;
  }
  return kExitSystemFailure;
}

struct Session {
  jenkins::Client client;
  std::string job_path;
  jenkins::FollowOptions options;
};

Result<std::unique_ptr<Session>> Connect(const JenkinsFlags& flags, log::FdSink& out) {
  STAGEHOST_ASSIGN_OR_RETURN(jenkins::Credentials credentials,
                             jenkins::ResolveCredentials(flags.url, flags.user, flags.token));
  STAGEHOST_ASSIGN_OR_RETURN(std::string job_path, jenkins::JobPath(flags.job));
  jenkins::ClientConfig config;
  config.credentials = std::move(credentials);
  config.on_notice = Message;
  // Ctrl-C ends a request in flight too, not only the waits between polls.
  int cancel_fd = InstallCancelSignals();
  config.abort = &CancelRequested();
  auto session =
      std::make_unique<Session>(Session{jenkins::Client(std::move(config)), job_path, {}});
  auto poll = std::chrono::milliseconds(static_cast<int64_t>(flags.poll_s * 1000));
  session->options.poll = poll;
  session->options.poll_max = std::max(poll, poll * 5);
  session->options.cancel_fd = cancel_fd;
  if (flags.timeout_s > 0) {
    session->options.deadline =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_s * 1000));
  }
  session->options.write_log = [&out](std::string_view bytes) { return out.Write(bytes); };
  session->options.message = Message;
  return session;
}

// A request aborted by Ctrl-C / SIGTERM: the same end as a cancel noticed between polls.
jenkins::FollowResult LocalCancel(std::int64_t number) {
  jenkins::FollowResult result;
  result.end = jenkins::FollowEnd::kLocalCancel;
  result.number = number;
  return result;
}

// Polls the build until it has a result, `grace` passes or a second Ctrl-C; its result, if any.
std::optional<std::string> AwaitEnd(Session& s, std::int64_t number,
                                    std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!CancelRequested().load()) {
    Result<jenkins::BuildInfo> build = s.client.GetBuild(s.job_path, number);
    if (build.ok() && build->finished()) return build->result;
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return std::nullopt;
}

// stop, then — for a Pipeline whose steps ignore the interrupt — term and kill, each after
// `--stop-grace` without a result (jenkins-api.md §9). A second Ctrl-C gives up at once.
void StopRemoteBuild(Session& s, std::int64_t number, const std::string& what,
                     const std::string& where, const JenkinsFlags& flags) {
  auto grace = std::chrono::milliseconds(static_cast<int64_t>(flags.stop_grace_s * 1000));
  for (jenkins::StopMode mode :
       {jenkins::StopMode::kStop, jenkins::StopMode::kTerm, jenkins::StopMode::kKill}) {
    const char* name = jenkins::StopModeName(mode);
    Status sent = s.client.StopBuild(s.job_path, number, mode);
    if (!sent.ok()) {
      // term and kill answer 404 on a freestyle build: nothing stronger exists there.
      Message(fmt::format("{}; {} of {} failed: {}", what, name, where, sent.message()));
      return;
    }
    Message(fmt::format("{}; {} requested for {}", what, name, where));
    if (std::optional<std::string> result = AwaitEnd(s, number, grace)) {
      Message(fmt::format("the remote build ended {}", *result));
      return;
    }
    if (CancelRequested().load()) {
      Message(fmt::format("interrupted again; the remote build may still run: {}", where));
      return;
    }
    if (mode != jenkins::StopMode::kKill) {
      Message(fmt::format("still running {:g} s after {}", flags.stop_grace_s, name));
    }
  }
  Message(fmt::format("the remote build is still running after stop, term and kill: {}", where));
}

// Local cancel or timeout: optionally stop the remote build (or its queue item), then exit 2.
int Interrupted(Session& s, const jenkins::FollowResult& r, std::int64_t queue_id,
                const JenkinsFlags& flags) {
  std::string what = r.end == jenkins::FollowEnd::kTimedOut
                         ? fmt::format("timed out after {} s", flags.timeout_s)
                         : std::string("cancelled");
  std::string where = r.number > 0 ? s.client.BuildUrl(s.job_path, r.number)
                                   : fmt::format("queue item {}", queue_id);
  // The stop request below must go out although the cancel flag is set.
  CancelRequested().store(false);
  if (!flags.stop_on_cancel) {
    Message(fmt::format("{}; the remote build goes on: {} (use --stop-on-cancel to stop it)", what,
                        where));
    return kExitSystemFailure;
  }
  if (r.number <= 0) {
    Status cancelled = s.client.CancelQueueItem(queue_id);
    if (cancelled.ok()) {
      Message(fmt::format("{}; cancel requested for {}", what, where));
    } else {
      Message(fmt::format("{}; cancelling {} failed: {}", what, where, cancelled.message()));
    }
    return kExitSystemFailure;
  }
  StopRemoteBuild(s, r.number, what, where, flags);
  return kExitSystemFailure;
}

Status WriteTests(Session& s, std::int64_t number, const JenkinsFlags& flags) {
  STAGEHOST_ASSIGN_OR_RETURN(std::optional<nlohmann::json> report,
                             s.client.GetTestReport(s.job_path, number));
  if (!report) {
    Message("the build has no test report");
    return Status::Ok();
  }
  STAGEHOST_ASSIGN_OR_RETURN(jenkins::TestSummary summary, jenkins::SummariseTestReport(*report));
  fmt::print(stderr, "{}", jenkins::FormatTestSummary(*report, summary));
  STAGEHOST_ASSIGN_OR_RETURN(std::string xml, jenkins::TestReportToJUnit(*report));
  std::filesystem::path file = flags.junit;
  if (file.empty()) {
    file = std::filesystem::path(flags.artifacts.empty() ? "." : flags.artifacts) /
           "jenkins-junit.xml";
  }
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  std::ofstream stream(file, std::ios::binary | std::ios::trunc);
  stream << xml;
  stream.close();
  if (!stream) return Internal("writing " + file.string() + " failed");
  Message("JUnit report: " + file.string());
  return Status::Ok();
}

int RunBuild(const JenkinsFlags& flags) {
  log::FdSink out(STDOUT_FILENO);
  Result<std::unique_ptr<Session>> connected = Connect(flags, out);
  if (!connected.ok()) return Fail(connected.status());
  Session& s = **connected;

  std::vector<std::pair<std::string, std::string>> params;
  for (const std::string& assignment : flags.params) {
    size_t eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(InvalidArgument("--param " + assignment + ": expected NAME=VALUE"));
    }
    params.emplace_back(assignment.substr(0, eq), assignment.substr(eq + 1));
  }
  Result<jenkins::JobInfo> job = s.client.GetJob(s.job_path);
  if (!job.ok()) return Fail(job.status().WithContext("job " + flags.job));
  if (!job->parameterised && !params.empty()) {
    return Fail(InvalidArgument(
        fmt::format("job {} takes no parameters, but --param was given", flags.job)));
  }
  // Jenkins ignores names it does not define: check them here instead (§4).
  for (const auto& [name, value] : params) {
    bool known = std::any_of(job->parameters.begin(), job->parameters.end(),
                             [&](const auto& d) { return d.name == name; });
    if (!known) {
      std::vector<std::string> names;
      for (const auto& d : job->parameters) names.push_back(d.name);
      return Fail(InvalidArgument(fmt::format("job {} has no parameter '{}' (it has: {})",
                                              flags.job, name, fmt::join(names, ", "))));
    }
  }
  // A parameterised job answers 400 on /build: it always goes through buildWithParameters.
  Result<std::int64_t> queue_id = s.client.Trigger(s.job_path, params, job->parameterised);
  if (!queue_id.ok()) return Fail(queue_id.status().WithContext("triggering " + flags.job));
  Message(fmt::format("queued {} as queue item {}", flags.job, *queue_id));

  Result<jenkins::FollowResult> queued =
      jenkins::WaitForBuild(s.client, s.job_path, *queue_id, s.options);
  if (!queued.ok() && queued.status().code() == StatusCode::kCancelled) {
    return Interrupted(s, LocalCancel(0), *queue_id, flags);
  }
  if (!queued.ok()) return Fail(queued.status().WithContext("waiting for " + flags.job));
  if (queued->end == jenkins::FollowEnd::kQueueCancelled) {
    Message(fmt::format("queue item {} was cancelled in Jenkins: no build ran", *queue_id));
    return kExitStageFailed;
  }
  if (queued->end != jenkins::FollowEnd::kFinished) {
    return Interrupted(s, *queued, *queue_id, flags);
  }
  Message(fmt::format("build started: {}", s.client.BuildUrl(s.job_path, queued->number)));
  // Without --follow, --artifacts or --tests the command ends once the build is known.
  if (!flags.follow && flags.artifacts.empty() && !flags.tests) return kExitPassed;

  Result<jenkins::FollowResult> followed =
      jenkins::FollowBuild(s.client, s.job_path, queued->number, flags.follow, s.options);
  if (!followed.ok() && followed.status().code() == StatusCode::kCancelled) {
    return Interrupted(s, LocalCancel(queued->number), *queue_id, flags);
  }
  if (!followed.ok()) return Fail(followed.status().WithContext("following " + flags.job));
  if (followed->end != jenkins::FollowEnd::kFinished) {
    return Interrupted(s, *followed, *queue_id, flags);
  }
  const std::string& result = *followed->build.result;
  Message(fmt::format("{} #{} finished: {}", flags.job, followed->number, result));
  int code = ExitCodeForResult(result);
  if (!flags.artifacts.empty()) {
    Status downloaded = jenkins::DownloadArtifacts(s.client, s.job_path, followed->build,
                                                   flags.artifacts, s.options);
    if (!downloaded.ok()) return Fail(downloaded.WithContext("downloading artifacts"));
  }
  if (flags.tests) {
    Status written = WriteTests(s, followed->number, flags);
    if (!written.ok()) return Fail(written.WithContext("test report"));
  }
  return code;
}

int RunLog(const JenkinsFlags& flags) {
  log::FdSink out(STDOUT_FILENO);
  Result<std::unique_ptr<Session>> connected = Connect(flags, out);
  if (!connected.ok()) return Fail(connected.status());
  Session& s = **connected;
  if (!flags.follow) {
    Status printed = jenkins::PrintLogOnce(s.client, s.job_path, flags.number, s.options);
    return printed.ok() ? kExitPassed : Fail(printed);
  }
  Result<jenkins::FollowResult> followed =
      jenkins::FollowBuild(s.client, s.job_path, flags.number, true, s.options);
  if (!followed.ok() && followed.status().code() == StatusCode::kCancelled) {
    followed = LocalCancel(flags.number);
  }
  if (!followed.ok()) return Fail(followed.status());
  if (followed->end != jenkins::FollowEnd::kFinished) {
    Message(followed->end == jenkins::FollowEnd::kTimedOut ? "timed out" : "cancelled");
    return kExitSystemFailure;
  }
  Message(fmt::format("{} #{} finished: {}", flags.job, flags.number, *followed->build.result));
  return ExitCodeForResult(*followed->build.result);
}

void AddConnectionFlags(CLI::App* cmd, JenkinsFlags& flags) {
  cmd->add_option("--url", flags.url, "Jenkins root URL (default $JENKINS_URL)");
  cmd->add_option("--user", flags.user, "User id (default $JENKINS_USER_ID)");
  cmd->add_option("--token", flags.token,
                  "API token (default $JENKINS_API_TOKEN; a password also works, then CSRF "
                  "crumbs are used)");
  cmd->add_option("--timeout", flags.timeout_s,
                  "Give up after this many seconds, exit 2 (0 = wait forever)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--poll", flags.poll_s,
                  "Seconds between polls while output flows (default 1); idle polls back off "
                  "up to 5x")
      ->check(CLI::PositiveNumber);
}

}  // namespace

void RegisterJenkins(CLI::App& app, int& exit_code) {
  CLI::App* jenkins = app.add_subcommand(
      "jenkins",
      "Drive Jenkins jobs through the remote access API. Credentials: JENKINS_URL, "
      "JENKINS_USER_ID, JENKINS_API_TOKEN (or --url/--user/--token).");
  jenkins->require_subcommand(1);

  auto build_flags = std::make_shared<JenkinsFlags>();
  CLI::App* build = jenkins->add_subcommand(
      "build",
      "Trigger JOB, wait for its build and optionally mirror its console.\n"
      "The console goes to stdout unchanged; stagehost's messages go to stderr.\n"
      "Exit status: 0 SUCCESS; 1 UNSTABLE, FAILURE, ABORTED, NOT_BUILT or a queue item cancelled "
      "in Jenkins; 2 stagehost could not get a verdict (credentials, permissions, network, "
      "timeout, Ctrl-C, usage).");
  build->add_option("job", build_flags->job, "Full job name, folders separated by '/'")->required();
  build->add_option("--param", build_flags->params,
                    "Build parameter NAME=VALUE (repeatable); names are checked against the job");
  build->add_flag("--follow", build_flags->follow, "Mirror the console until the build ends");
  build->add_option("--artifacts", build_flags->artifacts,
                    "Download the build's artifacts into DIR (byte-exact) when it ends");
  build->add_flag("--tests", build_flags->tests,
                  "Print the build's test report summary and write it as JUnit XML");
  build->add_option(
      "--junit", build_flags->junit,
      "JUnit file for --tests (default DIR/jenkins-junit.xml, or ./jenkins-junit.xml)");
  build->add_flag("--stop-on-cancel", build_flags->stop_on_cancel,
                  "On Ctrl-C, SIGTERM or --timeout, stop the remote build (or cancel its queue "
                  "item) before exiting; a Pipeline that keeps running gets term, then kill");
  build
      ->add_option("--stop-grace", build_flags->stop_grace_s,
                   "With --stop-on-cancel: seconds to wait for the build to end after stop and "
                   "after term before the next, stronger request")
      ->default_val(10)
      ->check(CLI::Range(0.1, 3600.0));
  AddConnectionFlags(build, *build_flags);
  build->callback([build_flags, &exit_code] { exit_code = RunBuild(*build_flags); });

  auto log_flags = std::make_shared<JenkinsFlags>();
  CLI::App* log = jenkins->add_subcommand(
      "log",
      "Print a build's console to stdout (notes stripped, LF line ends).\n"
      "With --follow: until the build ends, exit status as for `build`; without: what exists now, "
      "exit 0.");
  log->add_option("job", log_flags->job, "Full job name, folders separated by '/'")->required();
  log->add_option("build", log_flags->number, "Build number")
      ->required()
      ->check(CLI::PositiveNumber);
  log->add_flag("--follow", log_flags->follow, "Keep mirroring until the build ends");
  AddConnectionFlags(log, *log_flags);
  log->callback([log_flags, &exit_code] { exit_code = RunLog(*log_flags); });
}

}  // namespace stagehost::cli
