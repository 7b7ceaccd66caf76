// JobReporter: sends a job's trace live, watches for cancel, and delivers its final state.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "gitlab/runner/api_client.h"
#include "gitlab/runner/job_trace.h"
#include "gitlab/runner/runner_config.h"
#include "gitlab/runner/status_check_budget.h"
#include "net/retry.h"

namespace stagehost::gitlab {

class RunnerMetrics;

struct FinalState {
  std::string state;           // success | failed
  std::string failure_reason;  // already mapped to what the server accepts
  int exit_code = 0;
};

// Rules of reliability.md §6: the spool holds every byte until GitLab acknowledged it; the
// server's Range is authoritative (416 may move the offset back or forward); every pending byte
// goes out each tick in PATCHes of at most 1 MiB; a silent job still asks for its status every
// `cancel_check_interval`; errors back off with jitter and never drop bytes; nothing is sent once
// the server called the job finished (403, Job-Status canceled/failed).
class JobReporter {
 public:
  using Logger = std::function<void(const std::string&)>;
  static constexpr uint64_t kMaxPatchBytes = 1u << 20;

  JobReporter(const RunnerEntry& runner, int64_t job_id, std::string job_token, JobTrace* trace,
              Logger logger);
  ~JobReporter();

  // Called once, from the sender thread, when GitLab asks for a graceful cancel / an abort.
  void OnCancel(std::function<void()> callback) { on_cancel_ = std::move(callback); }
  void OnAbort(std::function<void()> callback) { on_abort_ = std::move(callback); }
  // Counts API calls, trace bytes and retries from now on; call before Start().
  void SetMetrics(RunnerMetrics* metrics);
  // Status checks of a silent job then share this runner-wide budget; call before Start().
  void SetStatusCheckBudget(const StatusCheckBudget* budget) { status_checks_ = budget; }

  // Sending starts at `offset` instead of 0: a restarted runner assumes GitLab holds what the
  // previous process spooled, and a 416 with the server's Range corrects that. Before Start().
  void ResumeFrom(uint64_t offset) { acked_ = offset; }
  // Starts the live sender thread.
  void Start();
  // Stops the live thread, sends the rest of the trace and the final state, retrying through
  // outages for `horizon`. True when GitLab accepted the final state.
  bool Finish(const FinalState& state, std::chrono::milliseconds horizon);
  // Ends whatever is in flight within ~100 ms and makes Finish give up (forced shutdown).
  void ForceStop();

  bool aborted() const { return aborted_.load(); }
  uint64_t acked() const { return acked_; }
  uint64_t requests() const { return requests_.load(); }

 private:
  enum class SendResult { kDone, kRetryLater, kStop };

  void LiveLoop();
  void StopLive();
  SendResult SendPending(bool final_flush);
  void Heartbeat();
  std::chrono::milliseconds StatusCheckInterval() const;
  // Job-Status, 403 and the interval header: what every answer may carry.
  void Observe(const JobAnswer& answer);
  void ApplyInterval(const std::string& raw);
  void Abort(const std::string& why);
  void RetryAfter(const JobAnswer* answer);
  // Sleeps until `until`, ForceStop, or (when `live`) the end of the live phase; false when
  // force-stopped.
  bool SleepUntil(std::chrono::steady_clock::time_point until, bool live);

  const RunnerEntry runner_;
  const int64_t job_id_;
  const std::string job_token_;
  JobTrace* trace_;
  Logger log_;
  std::atomic<bool> force_stop_{false};
  std::unique_ptr<GitLabApi> api_;  // used by one thread at a time: live thread, then Finish
  std::thread live_thread_;
  std::atomic<bool> stop_live_{false};
  std::mutex sleep_mutex_;
  std::condition_variable sleep_cv_;

  std::function<void()> on_cancel_;
  std::function<void()> on_abort_;
  std::atomic<bool> aborted_{false};
  bool cancel_seen_ = false;

  uint64_t acked_ = 0;
  std::chrono::milliseconds interval_;
  bool interval_warned_ = false;
  std::chrono::steady_clock::time_point last_contact_;
  std::chrono::steady_clock::time_point retry_not_before_;
  std::optional<std::chrono::steady_clock::time_point> not_found_since_;
  net::Backoff backoff_;
  std::atomic<uint64_t> requests_{0};
  RunnerMetrics* metrics_ = nullptr;
  const StatusCheckBudget* status_checks_ = nullptr;
};

}  // namespace stagehost::gitlab
