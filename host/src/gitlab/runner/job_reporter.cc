// JobReporter: the live PATCH loop, the status heartbeat and the final-update loop.
#include "gitlab/runner/job_reporter.h"

#include <fmt/format.h>

#include "gitlab/runner/metrics.h"

namespace stagehost::gitlab {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

bool IsTerminal(const std::optional<std::string>& job_status) {
  return job_status &&
         (*job_status == "canceled" || *job_status == "failed" || *job_status == "success");
}

}  // namespace

JobReporter::JobReporter(const RunnerEntry& runner, int64_t job_id, std::string job_token,
                         JobTrace* trace, Logger logger)
    : runner_(runner),
      job_id_(job_id),
      job_token_(std::move(job_token)),
      trace_(trace),
      log_(std::move(logger)),
      interval_(runner.trace_interval_initial),
      // Short and capped in the live phase: a burst of errors must not leave the live log
      // minutes behind once the server is back (reliability.md R1).
      backoff_(milliseconds(200), milliseconds(4000)) {
  net::ClientOptions options;
  options.ca_file = runner.tls_ca_file.string();
  options.abort = &force_stop_;
  api_ = std::make_unique<GitLabApi>(runner.url, options, runner.request_idle_timeout);
  last_contact_ = Clock::now();
  retry_not_before_ = Clock::now();
}

JobReporter::~JobReporter() { StopLive(); }

void JobReporter::SetMetrics(RunnerMetrics* metrics) {
  metrics_ = metrics;
  api_->set_metrics(metrics);
}

void JobReporter::StopLive() {
  {
    std::lock_guard<std::mutex> lock(sleep_mutex_);
    stop_live_ = true;
  }
  sleep_cv_.notify_all();
  trace_->Wake();
  if (live_thread_.joinable()) live_thread_.join();
}

void JobReporter::Start() {
  live_thread_ = std::thread([this] { LiveLoop(); });
}

void JobReporter::ForceStop() {
  force_stop_ = true;
  stop_live_ = true;
  trace_->Wake();
  sleep_cv_.notify_all();
}

bool JobReporter::SleepUntil(Clock::time_point until, bool live) {
  std::unique_lock<std::mutex> lock(sleep_mutex_);
  sleep_cv_.wait_until(lock, until,
                       [&] { return force_stop_.load() || (live && stop_live_.load()); });
  return !force_stop_.load();
}

void JobReporter::Abort(const std::string& why) {
  if (aborted_.exchange(true)) return;
  log_(fmt::format("job {}: GitLab ended the job ({}); stopping it, nothing more is sent", job_id_,
                   why));
  if (on_abort_) on_abort_();
}

void JobReporter::ApplyInterval(const std::string& raw) {
  if (raw.empty()) return;
  long long seconds = 0;
  bool numeric =
      raw.find_first_not_of("-0123456789") == std::string::npos && raw.size() <= 12 && raw != "-";
  if (numeric) {
    try {
      seconds = std::stoll(raw);
    } catch (...) {
      numeric = false;
    }
  }
  milliseconds wanted = numeric ? milliseconds(seconds * 1000) : interval_;
  milliseconds clamped = std::clamp(wanted, runner_.trace_interval_min, runner_.trace_interval_max);
  if ((!numeric || clamped != wanted) && !interval_warned_) {
    interval_warned_ = true;
    log_(fmt::format("job {}: X-GitLab-Trace-Update-Interval '{}' is out of bounds; using {} ms",
                     job_id_, raw, clamped.count()));
  }
  interval_ = clamped;
}

void JobReporter::Observe(const JobAnswer& answer) {
  if (answer.update_interval) ApplyInterval(*answer.update_interval);
  if (answer.status == 403) {
    Abort(answer.job_status ? "403, Job-Status " + *answer.job_status : "403");
    return;
  }
  if (IsTerminal(answer.job_status) && *answer.job_status != "success") {
    Abort("Job-Status " + *answer.job_status);
    return;
  }
  if (answer.job_status && *answer.job_status == "canceling" && !cancel_seen_) {
    cancel_seen_ = true;
    log_(fmt::format("job {}: cancel requested by GitLab", job_id_));
    if (on_cancel_) on_cancel_();
  }
}

void JobReporter::RetryAfter(const JobAnswer* answer) {
  if (metrics_ != nullptr) metrics_->Retry("trace");
  milliseconds wait = backoff_.Next();
  if (answer != nullptr) {
    if (auto asked =
            net::ServerRequestedDelay(answer->response, std::chrono::system_clock::now())) {
      wait = std::max(wait, *asked);
    }
  }
  retry_not_before_ = Clock::now() + wait;
}

JobReporter::SendResult JobReporter::SendPending(bool final_flush) {
  const uint64_t target = trace_->size();
  while (acked_ < target && !aborted_ && !force_stop_) {
    uint64_t length = std::min<uint64_t>(kMaxPatchBytes, target - acked_);
    ++requests_;
    Result<JobAnswer> sent =
        api_->PatchTrace(job_id_, job_token_, trace_->spool_fd(), acked_, length);
    if (!sent.ok()) {
      if (sent.status().code() == StatusCode::kCancelled) return SendResult::kStop;
      RetryAfter(nullptr);
      return SendResult::kRetryLater;
    }
    const JobAnswer& answer = *sent;
    Observe(answer);
    if (aborted_) return SendResult::kStop;
    if (answer.status != 404) not_found_since_.reset();
    switch (answer.status) {
      case 202: {
        // The server's count is authoritative; it can only be what we sent or less.
        uint64_t before = acked_;
        acked_ = answer.range_end && *answer.range_end <= acked_ + length ? *answer.range_end
                                                                          : acked_ + length;
        if (metrics_ != nullptr && acked_ > before) metrics_->TraceBytesSent(acked_ - before);
        last_contact_ = Clock::now();
        backoff_.Reset();
        break;
      }
      case 416:
        if (!answer.range_end || *answer.range_end > trace_->size()) {
          log_(fmt::format("job {}: 416 with an unusable Range ({}); retrying", job_id_,
                           answer.response.Header("Range").value_or("none")));
          RetryAfter(&answer);
          return SendResult::kRetryLater;
        }
        // Back (the server lost a tail) or forward (it applied a PATCH whose answer was lost).
        acked_ = *answer.range_end;
        last_contact_ = Clock::now();
        break;
      case 404:
        if (final_flush) return SendResult::kDone;  // as gitlab-runner: ends the final flush
        if (!not_found_since_) not_found_since_ = Clock::now();
        if (Clock::now() - *not_found_since_ >= runner_.not_found_horizon) {
          Abort("404 for longer than the not-found horizon");
          return SendResult::kStop;
        }
        RetryAfter(&answer);
        return SendResult::kRetryLater;
      default:
        if (answer.status >= 400 && !net::IsRetryableStatus(answer.status)) {
          log_(fmt::format("job {}: trace PATCH answered {}; retrying", job_id_, answer.status));
        }
        RetryAfter(&answer);
        return SendResult::kRetryLater;
    }
  }
  return SendResult::kDone;
}

void JobReporter::Heartbeat() {
  ++requests_;
  Result<JobAnswer> sent = api_->UpdateJob(job_id_, job_token_, {{"state", "running"}});
  last_contact_ = Clock::now();
  if (!sent.ok()) return;
  Observe(*sent);
}

void JobReporter::LiveLoop() {
  Clock::time_point next_tick = Clock::now() + interval_;
  while (!stop_live_ && !aborted_) {
    if (Clock::now() < retry_not_before_) {
      // Backing off: pending data must not wake us early (that would spin until the retry time).
      SleepUntil(retry_not_before_, /*live=*/true);
      continue;
    }
    Clock::time_point heartbeat_due = last_contact_ + StatusCheckInterval();
    trace_->WaitForData(acked_, std::min(next_tick, heartbeat_due));
    if (stop_live_ || aborted_) break;
    Clock::time_point now = Clock::now();
    bool full_patch_pending = trace_->size() >= acked_ + kMaxPatchBytes;
    if (now >= next_tick || full_patch_pending) {
      if (SendPending(false) == SendResult::kStop) break;
      if (now >= next_tick) next_tick = Clock::now() + interval_;
    }
    if (!aborted_ && Clock::now() >= last_contact_ + StatusCheckInterval() &&
        Clock::now() >= retry_not_before_) {
      Heartbeat();
    }
  }
}

milliseconds JobReporter::StatusCheckInterval() const {
  return status_checks_ != nullptr ? status_checks_->Interval(runner_.cancel_check_interval)
                                   : runner_.cancel_check_interval;
}

bool JobReporter::Finish(const FinalState& state, milliseconds horizon) {
  StopLive();
  if (aborted_) return false;

  const Clock::time_point deadline = Clock::now() + horizon;
  // Through an outage the final state is retried with a 30 s cap, so the job is reported at
  // most ~30 s after GitLab returns (reliability.md R8).
  net::Backoff final_backoff(milliseconds(500), milliseconds(30'000));
  auto wait_or_give_up = [&](milliseconds wait) {
    if (metrics_ != nullptr) metrics_->Retry("final_update");
    Clock::time_point until = std::min(Clock::now() + wait, deadline);
    return SleepUntil(until, /*live=*/false) && Clock::now() < deadline;
  };
  bool reported_retry = false;
  while (!force_stop_) {
    retry_not_before_ = Clock::now();
    const uint64_t acked_before = acked_;
    SendResult flushed = SendPending(true);
    // Progress means GitLab is back: the next failure starts the backoff from the beginning.
    if (acked_ > acked_before) final_backoff.Reset();
    if (flushed == SendResult::kStop) return false;
    if (flushed == SendResult::kRetryLater) {
      if (!reported_retry) {
        log_(
            fmt::format("job {}: GitLab unreachable at the end of the job; retrying for up to {} s",
                        job_id_, horizon.count() / 1000));
        reported_retry = true;
      }
      auto server_wait = std::chrono::duration_cast<milliseconds>(
          std::max(Clock::duration(0), retry_not_before_ - Clock::now()));
      if (!wait_or_give_up(std::max(final_backoff.Next(), server_wait))) break;
      continue;
    }
    nlohmann::json body = {{"state", state.state}};
    const std::string checksum = fmt::format("crc32:{:08x}", trace_->crc32());
    body["checksum"] = checksum;
    body["output"] = {{"checksum", checksum}, {"bytesize", trace_->size()}};
    if (!state.failure_reason.empty()) body["failure_reason"] = state.failure_reason;
    if (state.exit_code != 0) body["exit_code"] = state.exit_code;
    ++requests_;
    Result<JobAnswer> sent = api_->UpdateJob(job_id_, job_token_, body);
    if (!sent.ok()) {
      if (sent.status().code() == StatusCode::kCancelled) break;
      if (!wait_or_give_up(final_backoff.Next())) break;
      continue;
    }
    const JobAnswer& answer = *sent;
    if (answer.update_interval) ApplyInterval(*answer.update_interval);
    switch (answer.status) {
      case 200:
        return true;
      case 202: {
        // GitLab is still migrating trace chunks; it names the wait in the interval header.
        milliseconds wait = interval_;
        if (!wait_or_give_up(std::min(wait, milliseconds(60'000)))) return false;
        continue;
      }
      case 412:
        log_(fmt::format("job {}: GitLab asked for the whole trace again (412)", job_id_));
        acked_ = 0;
        continue;
      case 403:
      case 404:
        log_(fmt::format("job {}: final state refused with {}{}", job_id_, answer.status,
                         answer.job_status ? " (Job-Status " + *answer.job_status + ")" : ""));
        return false;
      default: {
        milliseconds wait = final_backoff.Next();
        if (auto asked =
                net::ServerRequestedDelay(answer.response, std::chrono::system_clock::now())) {
          wait = std::max(wait, *asked);
        }
        if (answer.status >= 400 && answer.status < 500 && !net::IsRetryableStatus(answer.status)) {
          log_(fmt::format("job {}: final state answered {}; retrying", job_id_, answer.status));
        }
        if (!wait_or_give_up(wait)) return false;
        continue;
      }
    }
  }
  log_(fmt::format("job {}: gave up delivering the final state", job_id_));
  return false;
}

}  // namespace stagehost::gitlab
