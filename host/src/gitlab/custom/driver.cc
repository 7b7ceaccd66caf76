// config / prepare / run / cleanup of the GitLab Runner custom executor contract.
#include "gitlab/custom/driver.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "gitlab/custom/job_environment.h"
#include "job/job_stage.h"
#include "job/stage_log.h"
#include "job/stage_runner.h"
#include "log/byte_sink.h"
#include "plugin/config_source.h"

extern char** environ;

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path JobDir(const DriverConfig& config, int64_t job_id) {
  return config.builds_dir / fmt::format("job-{}", job_id);
}
fs::path PgidFile(const fs::path& job_dir) { return job_dir / ".stagehost" / "pgids"; }

void Say(std::string_view line) {
  std::string text = fmt::format("stagehost: {}\n", line);
  (void)!::write(STDERR_FILENO, text.data(), text.size());
}

// A system failure of the driver itself, reported the way gitlab-runner expects.
int SystemFailure(std::string_view message) {
  Say(message);
  return SystemFailureExitCode();
}

std::optional<fs::path> FindOnPath(const std::string& program) {
  if (program.find('/') != std::string::npos) {
    return ::access(program.c_str(), X_OK) == 0 ? std::optional<fs::path>(program) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    fs::path candidate = fs::path(dir.empty() ? "." : dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

Status MakePrivateDir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  if (::chmod(dir.c_str(), 0700) != 0) return ErrnoStatus("chmod " + dir.string(), errno);
  return Status::Ok();
}

// The job directory gitlab-runner's job_env told us, checked against the one we would compute, so
// no variable can point cleanup at another directory.
Result<fs::path> ResolveJobDir(const DriverConfig& config, const JobEnvironment& job) {
  fs::path expected = JobDir(config, job.job_id);
  if (const char* told = std::getenv("STAGEHOST_JOB_DIR"); told != nullptr && *told != '\0') {
    if (fs::path(told) != expected) {
      return InvalidArgument(fmt::format("STAGEHOST_JOB_DIR {} is not this job's directory {}",
                                         told, expected.string()));
    }
  }
  return expected;
}

void WriteBuildExitCode(const JobEnvironment& job, int code) {
  if (!job.build_exit_code_file) return;
  std::ofstream out(*job.build_exit_code_file, std::ios::trunc);
  out << code << '\n';
}

std::string LimitsText(const ChildLimits& limits) {
  auto value = [](uint64_t v) { return v == 0 ? std::string("inherited") : std::to_string(v); };
  return fmt::format(
      "open files {}, processes {}, memory {}, cpu seconds {}, core dumps {}",
      value(limits.open_files), value(limits.processes),
      limits.memory_bytes == 0 ? "inherited" : std::to_string(limits.memory_bytes >> 20) + " MiB",
      value(limits.cpu_seconds), limits.core_dumps ? "on" : "off");
}

// The stage plugin of a job that sets STAGEHOST_STAGE, run after its script in the same step.
int RunJobStage(const DriverConfig& config, const JobEnvironment& job, const std::string& stage,
                StageLog& log, int cancel_fd) {
  std::optional<std::string> project_dir = job.Variable("CI_PROJECT_DIR");
  if (!project_dir) return SystemFailure("CI_PROJECT_DIR is not set: cannot run the stage");
  JobStageRequest request;
  request.stage = stage;
  request.config = job.Variable("STAGEHOST_CONFIG").value_or("");
  request.project_dir = *project_dir;
  request.env = job.JobEnv();
  request.timeout = config.stage_timeout;
  request.kill_grace = config.kill_grace;
  request.cancel_fd = cancel_fd;
  request.memory_limit_bytes = config.limits.memory_bytes;
  Result<StageRunOptions> options = JobStageOptions(request);
  if (!options.ok()) {
    log.Message(options.status().message());
    return job.system_failure_exit_code;
  }
  StageReport report = RunStage(*options, log);
  int code = ExitCodeFor(report.status);
  if (code == kExitPassed) return 0;
  if (code == kExitStageFailed) {
    WriteBuildExitCode(job, code);
    return job.build_failure_exit_code;
  }
  return job.system_failure_exit_code;
}

}  // namespace

int RunConfigCommand(const DriverConfig& config) {
  Result<JobEnvironment> job = ReadJobEnvironment();
  if (!job.ok()) return SystemFailure("config: " + job.status().message());
  char host[HOST_NAME_MAX + 1] = {};
  ::gethostname(host, sizeof(host) - 1);
  fs::path job_dir = JobDir(config, job->job_id);
  json out = {
      {"builds_dir", (job_dir / "builds").string()},
      {"cache_dir", config.cache_dir.string()},
      {"builds_dir_is_shared", false},
      {"hostname", std::string(host)},
      {"driver", {{"name", "stagehost"}, {"version", STAGEHOST_VERSION}}},
      {"job_env", {{"STAGEHOST_JOB_DIR", job_dir.string()}}},
  };
  std::string text = out.dump() + "\n";
  // Only the JSON document goes to stdout: gitlab-runner parses all of it.
  if (::write(STDOUT_FILENO, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return SystemFailure("config: cannot write to stdout");
  }
  return 0;
}

int RunPrepareCommand(const DriverConfig& config) {
  Result<JobEnvironment> job = ReadJobEnvironment();
  if (!job.ok()) return SystemFailure("prepare: " + job.status().message());
  Result<fs::path> job_dir = ResolveJobDir(config, *job);
  if (!job_dir.ok()) return SystemFailure("prepare: " + job_dir.status().message());
  for (const fs::path& dir : {*job_dir, *job_dir / "builds", *job_dir / "tmp",
                              *job_dir / ".stagehost", config.cache_dir}) {
    if (Status made = MakePrivateDir(dir); !made.ok())
      return SystemFailure("prepare: " + made.message());
  }
  std::optional<fs::path> shell = FindOnPath(config.shell);
  if (!shell) return SystemFailure(fmt::format("prepare: {} not found on PATH", config.shell));
  std::string git_strategy = job->Variable("GIT_STRATEGY").value_or("fetch");
  std::optional<fs::path> git = FindOnPath("git");
  if (!git && git_strategy != "none" && git_strategy != "empty") {
    return SystemFailure("prepare: git not found on PATH (needed for GIT_STRATEGY=" + git_strategy +
                         ")");
  }
  std::string lines = fmt::format(
      "stagehost: prepared job {} in {} (mode 0700)\n"
      "stagehost: shell {}, git {}\n"
      "stagehost: each script runs in its own process group; limits: {}\n",
      job->job_id, job_dir->string(), shell->string(), git ? git->string() : "not needed",
      LimitsText(config.limits));
  if (!FindOnPath("gitlab-runner")) {
    lines +=
        "stagehost: warning: gitlab-runner is not on PATH; caches and artifacts of this job "
        "will not be transferred\n";
  }
  (void)!::write(STDOUT_FILENO, lines.data(), lines.size());
  return 0;
}

int RunRunCommand(const DriverConfig& config, const std::string& script,
                  const std::string& substage, int cancel_fd) {
  Result<JobEnvironment> job = ReadJobEnvironment();
  if (!job.ok()) return SystemFailure("run: " + job.status().message());
  Result<fs::path> job_dir = ResolveJobDir(config, *job);
  if (!job_dir.ok()) return SystemFailure("run: " + job_dir.status().message());
  struct stat st;
  if (::stat(script.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return SystemFailure(fmt::format("run {}: script {} is not a readable file", substage, script));
  }

  Result<std::shared_ptr<const log::SecretMatcher>> secrets =
      log::SecretMatcher::Create(job->SecretValues());
  if (!secrets.ok()) return SystemFailure("run: " + secrets.status().message());
  log::FdSink out(STDOUT_FILENO), err(STDERR_FILENO);
  StageLog log(*secrets, &out, UINT64_MAX, &err);

  ChildOptions child;
  child.argv = {config.shell, script};
  for (char** entry = environ; *entry != nullptr; ++entry) child.env.emplace_back(*entry);
  if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') child.cwd = tmp;
  child.limits = config.limits;
  fs::path pgids = PgidFile(*job_dir);
  Result<ChildExit> exit = RunChild(
      child, [&log](std::string_view bytes) { log.Write(1, bytes); }, cancel_fd, config.kill_grace,
      [&pgids](pid_t pgid) {
        // Cleanup kills whatever the job left running in this group.
        std::ofstream(pgids, std::ios::app) << pgid << '\n';
      });
  if (!exit.ok()) {
    log.Close();
    return SystemFailure(fmt::format("run {}: {}", substage, exit.status().message()));
  }
  if (exit->stopped) {
    log.Message(
        fmt::format("{} stopped on request (exit {})", substage, ShellExitCode(exit->wait_status)));
    log.Close();
    WriteBuildExitCode(*job, ShellExitCode(exit->wait_status));
    return job->build_failure_exit_code;
  }
  int code = ShellExitCode(exit->wait_status);
  if (code != 0) {
    log.Close();
    WriteBuildExitCode(*job, code);
    return job->build_failure_exit_code;
  }

  bool step = substage == "build_script" || substage.rfind("step_", 0) == 0;
  std::optional<std::string> stage = job->Variable("STAGEHOST_STAGE");
  int result = 0;
  if (step && stage && !stage->empty()) result = RunJobStage(config, *job, *stage, log, cancel_fd);
  log.Close();
  return result;
}

int RunCleanupCommand(const DriverConfig& config) {
  // Cleanup must work even when prepare never ran or the environment is half there.
  Result<JobEnvironment> job = ReadJobEnvironment();
  if (!job.ok()) {
    Say("cleanup: " + job.status().message() + "; nothing to clean");
    return 0;
  }
  Result<fs::path> job_dir = ResolveJobDir(config, *job);
  if (!job_dir.ok()) {
    Say("cleanup: " + job_dir.status().message());
    return 0;
  }
  std::ifstream pgids(PgidFile(*job_dir));
  for (long pgid; pgids >> pgid;) {
    if (pgid > 1 && ::kill(static_cast<pid_t>(-pgid), SIGKILL) == 0) {
      Say(fmt::format("cleanup: killed what was left of process group {}", pgid));
    }
  }
  if (config.keep_builds) {
    Say(fmt::format("cleanup: keeping {} (keep_builds)", job_dir->string()));
    return 0;
  }
  std::error_code ec;
  fs::remove_all(*job_dir, ec);
  if (ec) Say(fmt::format("cleanup: cannot remove {}: {}", job_dir->string(), ec.message()));
  return 0;
}

}  // namespace stagehost::gitlab
