// RunJob: the steps of a job as gitlab-runner's shell executor runs them, plus the stage plugin.
#include "gitlab/runner/job_run.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <condition_variable>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "gitlab/runner/job_transfers.h"
#include "job/job_stage.h"
#include "job/script_step.h"
#include "job/stage_log.h"
#include "job/stage_outcome.h"
#include "job/stage_runner.h"

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr uint32_t kRunnerSource = JobTrace::kRunnerSource;
constexpr uint32_t kScriptSource = 1;

// Section markers GitLab folds in the job log (api reference §7).
class Sections {
 public:
  Sections(JobTrace& trace, bool enabled) : trace_(trace), enabled_(enabled) {}
  void Start(const std::string& name, const std::string& header, bool collapsed = false) {
    std::string text;
    if (enabled_) {
      text = fmt::format("section_start:{}:{}{}\r\x1b[0K", std::time(nullptr), name,
                         collapsed ? "[collapsed=true]" : "");
    }
    text += fmt::format("\x1b[0K\x1b[36;1m{}\x1b[0;m\n", header);
    trace_.Write(kRunnerSource, text);
  }
  void End(const std::string& name) {
    if (!enabled_) return;
    trace_.Write(kRunnerSource,
                 fmt::format("section_end:{}:{}\r\x1b[0K", std::time(nullptr), name));
  }

 private:
  JobTrace& trace_;
  bool enabled_;
};

// Feeds a StageLog's (already masked) output into the trace.
class TraceSink : public log::ByteSink {
 public:
  explicit TraceSink(JobTrace& trace) : trace_(trace) {}
  Status Write(std::string_view bytes) override {
    trace_.WriteMasked(bytes);
    return Status::Ok();
  }

 private:
  JobTrace& trace_;
};

// Fires control.Timeout() at the deadline unless stopped first.
class Watchdog {
 public:
  Watchdog(JobControl& control, milliseconds timeout)
      : thread_([this, &control, timeout] {
          std::unique_lock<std::mutex> lock(mutex_);
          if (!cv_.wait_for(lock, timeout, [this] { return done_; })) control.Timeout();
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string SafePathPart(const std::string& text) {
  std::string out;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == '/';
    out.push_back(ok ? c : '_');
  }
  while (out.find("..") != std::string::npos) out.replace(out.find(".."), 2, "__");
  while (!out.empty() && out.front() == '/') out.erase(0, 1);
  return out;
}

struct JobDirs {
  fs::path project;
  fs::path temp;
};

Result<JobDirs> MakeJobDirs(const JobPayload& job, const RunnerEntry& runner) {
  std::string project = SafePathPart(job.project_path);
  if (project.empty()) project = fmt::format("project-{}", job.project_id);
  JobDirs dirs;
  dirs.project = runner.builds_dir / project;
  dirs.temp = runner.builds_dir / (project + ".tmp") / std::to_string(job.id);
  std::error_code ec;
  fs::create_directories(dirs.project, ec);
  if (ec) return Internal(fmt::format("creating {}: {}", dirs.project.string(), ec.message()));
  fs::create_directories(dirs.temp, ec);
  if (ec) return Internal(fmt::format("creating {}: {}", dirs.temp.string(), ec.message()));
  ::chmod(dirs.temp.c_str(), 0700);
  return dirs;
}

// The job's environment: the runner's, the config's `environment`, the job's variables (file
// variables become paths of files holding the value) and what gitlab-runner computes itself.
Result<std::vector<std::string>> JobEnv(const JobPayload& job, const RunContext& context,
                                        const JobDirs& dirs) {
  std::map<std::string, std::string> env;
  auto put = [&env](const std::string& entry) {
    auto eq = entry.find('=');
    if (eq != std::string::npos) env[entry.substr(0, eq)] = entry.substr(eq + 1);
  };
  for (const std::string& entry : context.base_env) put(entry);
  for (const std::string& entry : context.runner->environment) put(entry);
  env["CI"] = "true";
  env["GITLAB_CI"] = "true";
  env["CI_SERVER"] = "yes";
  env["CI_JOB_ID"] = std::to_string(job.id);
  env["CI_JOB_NAME"] = job.name;
  env["CI_JOB_STAGE"] = job.stage;
  env["CI_JOB_TIMEOUT"] = std::to_string(job.timeout.count());
  // What `$VAR` in a variable's value may name, as gitlab-runner expands it: the job's variables
  // (the last value of each key, unexpanded) and the ones this runner computes.
  std::map<std::string, std::string, std::less<>> references;
  for (const PayloadVariable& variable : job.variables) references[variable.key] = variable.value;
  references["CI_PROJECT_DIR"] = dirs.project.string();
  references["CI_BUILDS_DIR"] = context.runner->builds_dir.string();
  auto lookup = [&references](std::string_view key) -> std::optional<std::string> {
    auto it = references.find(key);
    if (it == references.end()) return std::nullopt;
    return it->second;
  };
  for (const PayloadVariable& variable : job.variables) {
    if (variable.file) {
      fs::path file = dirs.temp / SafePathPart(variable.key);
      int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd < 0) return ErrnoStatus("writing file variable " + variable.key, errno);
      ssize_t n = ::write(fd, variable.value.data(), variable.value.size());
      ::close(fd);
      if (n != static_cast<ssize_t>(variable.value.size())) {
        return Internal("writing file variable " + variable.key + " failed");
      }
      env[variable.key] = file.string();
    } else {
      env[variable.key] =
          variable.raw ? variable.value : ExpandVariableReferences(variable.value, lookup);
    }
  }
  // Computed by the runner, so they win over anything the job sent.
  env["CI_PROJECT_DIR"] = dirs.project.string();
  env["CI_BUILDS_DIR"] = context.runner->builds_dir.string();
  env["CI_RUNNER_EXECUTABLE_ARCH"] = "linux/amd64";
  if (!context.runner->tls_ca_file.empty()) {
    env["CI_SERVER_TLS_CA_FILE"] = context.runner->tls_ca_file.string();
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [key, value] : env) out.push_back(key + "=" + value);
  return out;
}

}  // namespace

JobControl::JobControl() {
  int stop[2], abort[2];
  if (::pipe2(stop, O_CLOEXEC) == 0) {
    stop_read_ = UniqueFd(stop[0]);
    stop_write_ = UniqueFd(stop[1]);
  }
  if (::pipe2(abort, O_CLOEXEC) == 0) {
    abort_read_ = UniqueFd(abort[0]);
    abort_write_ = UniqueFd(abort[1]);
  }
}

void JobControl::Signal(const UniqueFd& fd) {
  // One byte, never read: the descriptor stays readable for every poll that follows.
  char byte = 1;
  (void)!::write(fd.get(), &byte, 1);
}

void JobControl::Cancel() {
  if (cancelled_.exchange(true)) return;
  Signal(stop_write_);
}

void JobControl::Timeout() {
  if (timed_out_.exchange(true)) return;
  Signal(stop_write_);
}

void JobControl::Abort(AbortCause cause) {
  AbortCause expected = AbortCause::kNone;
  if (abort_cause_.compare_exchange_strong(expected, cause)) {
    aborted_ = true;
    Signal(stop_write_);
    Signal(abort_write_);
  }
  std::lock_guard<std::mutex> lock(forward_mutex_);
  if (forward_ != nullptr) forward_->Abort(cause);
}

void JobControl::Forward(JobControl* other) {
  std::lock_guard<std::mutex> lock(forward_mutex_);
  forward_ = other;
  if (other != nullptr && abort_cause_ != AbortCause::kNone) other->Abort(abort_cause_);
}

FinalState RunJob(const JobPayload& job, const RunContext& context, JobTrace& trace,
                  JobControl& control) {
  const RunnerEntry& runner = *context.runner;
  Sections sections(trace, job.trace_sections);
  auto say = [&trace](const std::string& line) { trace.Write(kRunnerSource, line + "\n"); };
  auto system_failure = [&](const std::string& message) {
    say(fmt::format("\x1b[31;1mERROR: {}\x1b[0;m", message));
    return FinalState{"failed", "runner_system_failure", 0};
  };

  say(fmt::format("\x1b[0KRunning with stagehost {}\x1b[0;m", STAGEHOST_VERSION));
  say(fmt::format("\x1b[0K  on {}\x1b[0;m", context.runner_name));
  sections.Start("prepare_executor", "Preparing the \"stagehost\" executor");
  Result<JobDirs> dirs = MakeJobDirs(job, runner);
  if (!dirs.ok()) return system_failure(dirs.status().message());
  Result<std::vector<std::string>> env = JobEnv(job, context, *dirs);
  if (!env.ok()) return system_failure(env.status().message());
  say(fmt::format("Using shell bash in {}", dirs->project.string()));
  sections.End("prepare_executor");

  Watchdog watchdog(control, job.timeout);

  auto output = [&trace](std::string_view bytes) { trace.Write(kScriptSource, bytes); };
  TransferContext transfers;
  transfers.job = &job;
  transfers.runner = &runner;
  transfers.project_dir = dirs->project;
  transfers.temp_dir = dirs->temp;
  transfers.env = *env;
  transfers.cancel_fd = control.stop_fd();
  transfers.abort = control.abort_flag();
  transfers.metrics = context.metrics;
  transfers.log = [&trace](std::string_view text) { trace.Write(kRunnerSource, text); };
  auto stopping = [&control] {
    return control.cancelled() || control.timed_out() ||
           control.abort_cause() != JobControl::AbortCause::kNone;
  };
  int exit_code = 0;
  bool script_failed = false;
  bool system_failed = false;
  std::string failure_message;
  // A step before the script failed: the job fails as a script failure would (gitlab-runner).
  auto prepare_failed = [&](const Status& status) {
    if (status.code() == StatusCode::kCancelled || stopping()) return;
    say(fmt::format("\x1b[31;1mERROR: {}\x1b[0;m", status.message()));
    script_failed = true;
    exit_code = 1;
  };

  sections.Start("get_sources", "Getting source from Git repository");
  if (Status got = GetSources(transfers); !got.ok()) prepare_failed(got);
  sections.End("get_sources");

  if (!script_failed && !stopping() && !job.cache.is_null() && !job.cache.empty()) {
    sections.Start("restore_cache", "Restoring cache", true);
    RestoreJobCaches(transfers);
    sections.End("restore_cache");
  }
  if (!script_failed && !stopping() && job.dependencies.is_array() && !job.dependencies.empty()) {
    sections.Start("download_artifacts", "Downloading artifacts");
    if (Status got = DownloadDependencies(transfers); !got.ok()) prepare_failed(got);
    sections.End("download_artifacts");
  }

  if (const PayloadStep* step = job.Step("script");
      step != nullptr && !script_failed && !stopping()) {
    sections.Start("step_script", "Executing \"step_script\" stage of the job script");
    ScriptStep script{"script",          step->script,     *env, dirs->project, dirs->temp,
                      runner.kill_grace, control.stop_fd()};
    Result<ScriptResult> ran = RunScriptStep(script, output);
    if (!ran.ok()) {
      system_failed = true;
      failure_message = ran.status().message();
    } else if (ran->exit_code != 0 || ran->stopped) {
      script_failed = true;
      exit_code = ran->exit_code;
    }
    sections.End("step_script");
  }

  std::string stage = job.Variable("STAGEHOST_STAGE").value_or("");
  if (!stage.empty() && !script_failed && !system_failed && !stopping()) {
    sections.Start("stagehost_stage", fmt::format("Running the \"{}\" stage plugin", stage));
    JobStageRequest request;
    request.stage = stage;
    request.config = job.Variable("STAGEHOST_CONFIG").value_or("");
    request.project_dir = dirs->project;
    request.env = *env;
    request.kill_grace = runner.kill_grace;
    request.cancel_fd = control.stop_fd();
    Result<StageRunOptions> options = JobStageOptions(request);
    if (!options.ok()) {
      system_failed = true;
      failure_message = options.status().message();
    } else {
      Result<std::shared_ptr<const log::SecretMatcher>> secrets =
          log::SecretMatcher::Create(job.SecretValues());
      TraceSink sink(trace);
      StageLog stage_log(secrets.ok() ? *secrets : nullptr, &sink, UINT64_MAX, &sink);
      StageReport report = RunStage(*options, stage_log);
      stage_log.Close();
      int code = ExitCodeFor(report.status);
      if (code == kExitStageFailed) {
        script_failed = true;
        exit_code = 1;
      } else if (code != kExitPassed && !control.cancelled() && !control.timed_out()) {
        system_failed = true;
        failure_message = fmt::format("the stage plugin failed: {}", report.message);
      }
    }
    sections.End("stagehost_stage");
  }

  if (control.cancelled()) say("\x1b[31;1mERROR: Job failed: canceled\x1b[0;m");

  // after_script runs whatever happened, except when everything must stop now.
  if (const PayloadStep* after = job.Step("after_script");
      after != nullptr && !after->script.empty() &&
      control.abort_cause() == JobControl::AbortCause::kNone) {
    sections.Start("after_script", "Running after_script");
    milliseconds budget = runner.after_script_timeout;
    if (after->timeout.count() > 0) budget = std::min<milliseconds>(budget, after->timeout);
    JobControl after_control;
    // Only an abort ends after_script early; its own budget is the other limit.
    control.Forward(&after_control);
    Watchdog after_watchdog(after_control, budget);
    ScriptStep script{"after_script",    after->script,          *env, dirs->project, dirs->temp,
                      runner.kill_grace, after_control.stop_fd()};
    Result<ScriptResult> ran = RunScriptStep(script, output);
    control.Forward(nullptr);
    if (ran.ok() && ran->exit_code != 0) {
      say(fmt::format("\x1b[0;33mWARNING: after_script failed with exit code {}\x1b[0;m",
                      ran->exit_code));
    }
    sections.End("after_script");
  }

  // The failure path (cancel and timeout included) still saves caches and on_failure artifacts;
  // only an abort skips them.
  bool succeeded = !script_failed && !system_failed && !control.cancelled() && !control.timed_out();
  if (control.abort_cause() == JobControl::AbortCause::kNone) {
    if (!job.cache.is_null() && !job.cache.empty()) {
      sections.Start("archive_cache",
                     succeeded ? "Saving cache for successful job" : "Saving cache for failed job",
                     true);
      SaveJobCaches(transfers, succeeded);
      sections.End("archive_cache");
    }
    if (job.artifacts.is_array() && !job.artifacts.empty()) {
      const char* name = succeeded ? "upload_artifacts_on_success" : "upload_artifacts_on_failure";
      sections.Start(name, "Uploading artifacts");
      Status uploaded = UploadArtifacts(transfers, succeeded);
      sections.End(name);
      if (!uploaded.ok() && uploaded.code() != StatusCode::kCancelled && succeeded) {
        script_failed = true;
        exit_code = 1;
      }
    }
  }

  std::error_code ec;
  fs::remove_all(dirs->temp, ec);

  if (control.abort_cause() == JobControl::AbortCause::kShutdown) {
    say("\x1b[31;1mERROR: Job failed: the runner is shutting down\x1b[0;m");
    return {"failed", "runner_system_failure", 0};
  }
  if (control.timed_out()) {
    say(fmt::format("\x1b[31;1mERROR: Job failed: execution took longer than {} seconds\x1b[0;m",
                    job.timeout.count()));
    return {"failed", "job_execution_timeout", 0};
  }
  if (control.cancelled()) return {"failed", SendableFailureReason(job, "job_canceled"), 0};
  if (system_failed) return system_failure(failure_message);
  if (script_failed) {
    say(fmt::format("\x1b[31;1mERROR: Job failed: exit code {}\x1b[0;m", exit_code));
    return {"failed", "script_failure", exit_code};
  }
  say("\x1b[32;1mJob succeeded\x1b[0;m");
  return {"success", "", 0};
}

}  // namespace stagehost::gitlab
