// RunJob: one GitLab job on this machine — sections, script, stage plugin, after_script, outcome.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <string>

#include "gitlab/runner/job_payload.h"
#include "gitlab/runner/job_reporter.h"
#include "gitlab/runner/job_trace.h"
#include "gitlab/runner/runner_config.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {

// How a running job is told to stop. `Cancel` is GitLab's graceful cancel or the job timeout:
// the script or plugin gets SIGTERM, after_script still runs. `Abort` stops everything at once
// (GitLab dropped the job, or the runner is shutting down).
class JobControl {
 public:
  enum class AbortCause { kNone, kServer, kShutdown };

  JobControl();
  void Cancel();
  void Timeout();
  void Abort(AbortCause cause);
  // While set, an Abort also aborts `other` (the after_script's own control).
  void Forward(JobControl* other);

  // Readable once the current work must stop (cancel, timeout or abort).
  int stop_fd() const { return stop_read_.get(); }
  // Readable once everything must stop (abort only): after_script watches this one.
  int abort_fd() const { return abort_read_.get(); }
  bool cancelled() const { return cancelled_; }
  bool timed_out() const { return timed_out_; }
  AbortCause abort_cause() const { return abort_cause_; }
  // True once aborted: HTTP transfers of the job (artifacts, dependencies) watch it.
  const std::atomic<bool>* abort_flag() const { return &aborted_; }

 private:
  static void Signal(const UniqueFd& fd);
  UniqueFd stop_read_, stop_write_, abort_read_, abort_write_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> timed_out_{false};
  std::atomic<AbortCause> abort_cause_{AbortCause::kNone};
  std::atomic<bool> aborted_{false};
  std::mutex forward_mutex_;
  JobControl* forward_ = nullptr;
};

class RunnerMetrics;

struct RunContext {
  const RunnerEntry* runner = nullptr;
  std::string runner_name;
  std::vector<std::string> base_env;  // the runner's own environment, filtered
  RunnerMetrics* metrics = nullptr;   // may be null
};

// Runs the job's steps into `trace` and returns the state to report. Never throws; setup
// problems become runner_system_failure.
FinalState RunJob(const JobPayload& job, const RunContext& context, JobTrace& trace,
                  JobControl& control);

}  // namespace stagehost::gitlab
