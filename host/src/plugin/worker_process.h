// WorkerProcess: the host's handle on one worker subprocess (spawn, describe, run, kill).
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "plugin/file_trust.h"
#include "plugin/host_context.h"
#include "plugin/plugin_call.h"
#include "plugin/plugin_info.h"
#include "util/status.h"
#include "util/unique_fd.h"

namespace stagehost {

// Log stream id for whatever the worker process writes to its own fds 1 and 2 (printf in a
// plugin, messages of libraries it uses): kept apart from the plugin's log_write streams.
inline constexpr uint32_t kRawOutputStream = 0;

struct WorkerOptions {
  std::string executable;           // the stagehost binary; empty = /proc/self/exe
  uint64_t memory_limit_bytes = 0;  // RLIMIT_AS; 0 = inherit
  std::chrono::milliseconds describe_timeout{30000};
};

// How a run is stopped from outside.
struct RunControl {
  int cancel_fd = -1;  // becomes readable when the user cancels (SIGINT/SIGTERM); -1 = never
  std::optional<std::chrono::steady_clock::time_point> deadline;
  std::chrono::milliseconds cancel_grace{10000};  // flag + request_cancel -> SIGTERM
  std::chrono::milliseconds kill_grace{5000};     // SIGTERM -> SIGKILL
  std::string timeout_description;                // e.g. "1 s", for the message
};

// What the worker process used, from wait4(): the stage's own cost.
struct ResourceUsage {
  uint64_t max_rss_kib = 0;
  double user_seconds = 0;
  double system_seconds = 0;
};

class WorkerProcess {
 public:
  // Starts a worker for an already verified plugin file: its own process group, PDEATHSIG, no
  // core dumps, optional address-space limit; fds 1 and 2 go to a pipe the host reads.
  static Result<std::unique_ptr<WorkerProcess>> Spawn(const VerifiedPlugin& plugin,
                                                      const WorkerOptions& options);
  ~WorkerProcess();

  // Waits for the worker to load and check the plugin. The info's path and sha256 come from the
  // host's own verification, not from the worker.
  Result<PluginInfo> AwaitDescription();

  // Sends RUN and serves the plugin until the worker exits; cancel and timeout escalate from the
  // flag to SIGTERM to SIGKILL of the whole process group. Never fails: every outcome, crashes
  // included, is a PluginVerdict.
  PluginVerdict Run(const RunRequest& request, RunEvents& events, const RunControl& control);

  // Tells a described worker to exit without running, and reaps it.
  void Quit();

  pid_t pid() const { return pid_; }
  // Set once the worker has been reaped.
  const std::optional<ResourceUsage>& usage() const { return usage_; }

 private:
  WorkerProcess(pid_t pid, UniqueFd channel, UniqueFd output, std::string display_path,
                std::string sha256, std::chrono::milliseconds describe_timeout);
  // Reaps the worker (blocking up to `timeout`, then SIGKILL), then kills what is left of its
  // process group. Returns the wait status.
  int Reap(std::chrono::milliseconds timeout);
  void KillGroup(int signal);
  // Records the wait status and resource usage of the reaped worker.
  void Reaped(int status, const struct rusage& usage);
  // Reads the raw output pipe without blocking; returns false at end of stream.
  bool DrainOutput(RunEvents& events);

  pid_t pid_;
  UniqueFd channel_;
  UniqueFd output_;
  std::string display_path_;
  std::string sha256_;
  std::chrono::milliseconds describe_timeout_;
  std::optional<int> wait_status_;
  std::optional<ResourceUsage> usage_;
  bool described_ = false;
};

// "SIGSEGV", "SIGABRT", ...
std::string SignalName(int signal);

}  // namespace stagehost
