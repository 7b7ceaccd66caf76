// The runner loop: pollers per [[runners]] entry, one thread pair per job, signal handling.
#include "gitlab/runner/runner_loop.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <ctime>
#include <list>
#include <mutex>
#include <random>
#include <thread>

#include "gitlab/runner/api_client.h"
#include "gitlab/runner/job_journal.h"
#include "gitlab/runner/job_payload.h"
#include "gitlab/runner/job_reporter.h"
#include "gitlab/runner/job_run.h"
#include "gitlab/runner/job_trace.h"
#include "gitlab/runner/metrics.h"
#include "net/retry.h"

extern char** environ;

namespace stagehost::gitlab {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One line per event on stderr, never a token.
void Log(const std::string& line) {
  static std::mutex mutex;
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard<std::mutex> lock(mutex);
  fmt::print(stderr, "{} stagehost runner: {}\n", stamp, line);
}

struct ActiveJob {
  JobControl* control;
  JobReporter* reporter;
  // Only reporting a job an earlier process left: SIGTERM stops it at once, the journal keeps it.
  bool recovery = false;
};

class Runner {
 public:
  Runner(const RunnerConfig& config, const RunnerOptions& options)
      : config_(config),
        options_(options),
        running_per_runner_(config.runners.size(), 0),
        status_checks_(config.status_checks_per_second) {
    system_id_ = SystemId((config.file.parent_path() / ".runner_system_id").string());
    for (char** entry = environ; *entry != nullptr; ++entry) {
      std::string text = *entry;
      // The runner's own settings stay with the runner.
      if (text.rfind("STAGEHOST_RUNNER_", 0) == 0) continue;
      base_env_.push_back(std::move(text));
    }
  }

  int Run();

 private:
  void SignalLoop(sigset_t set);
  void PollLoop(size_t index);
  bool AcquireSlot(size_t index);
  void ReleaseSlot(size_t index);
  // Interruptible sleep; false when polling stops.
  bool SleepPolling(milliseconds duration);
  void StartJob(size_t index, nlohmann::json body);
  void RunOneJob(size_t index, JobPayload job);
  // Reports a job a previous process of this runner left unfinished (reliability.md R9).
  void RecoverJob(size_t index, const JournalEntry& entry);
  bool Acknowledge(const RunnerEntry& runner, const JobPayload& job, bool* cancel_now);
  void StopPolling();

  const RunnerConfig& config_;
  RunnerOptions options_;
  std::string system_id_;
  std::vector<std::string> base_env_;

  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<uint64_t> running_per_runner_;
  uint64_t running_total_ = 0;
  std::list<ActiveJob> active_;
  struct JobThread {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::list<JobThread> job_threads_;
  bool shutting_down_ = false;  // SIGTERM: abort running jobs
  bool forced_ = false;
  bool all_delivered_ = true;
  uint64_t jobs_done_ = 0;

  std::atomic<bool> stop_polling_{false};
  std::atomic<bool> poll_abort_{false};
  RunnerMetrics metrics_;
  StatusCheckBudget status_checks_;
};

void Runner::StopPolling() {
  stop_polling_ = true;
  poll_abort_ = true;
  cv_.notify_all();
}

bool Runner::SleepPolling(milliseconds duration) {
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait_for(lock, duration, [&] { return stop_polling_.load(); });
  return !stop_polling_;
}

bool Runner::AcquireSlot(size_t index) {
  const RunnerEntry& runner = config_.runners[index];
  std::unique_lock<std::mutex> lock(mutex_);
  cv_.wait(lock, [&] {
    return stop_polling_ || (running_total_ < config_.concurrent &&
                             (runner.limit == 0 || running_per_runner_[index] < runner.limit));
  });
  if (stop_polling_) return false;
  ++running_total_;
  ++running_per_runner_[index];
  return true;
}

void Runner::ReleaseSlot(size_t index) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --running_total_;
    --running_per_runner_[index];
  }
  cv_.notify_all();
}

void Runner::PollLoop(size_t index) {
  const RunnerEntry& runner = config_.runners[index];
  net::ClientOptions client;
  client.ca_file = runner.tls_ca_file.string();
  client.abort = &poll_abort_;
  GitLabApi api(runner.url, client, runner.request_idle_timeout);
  api.set_metrics(&metrics_);
  std::string last_update;
  std::mt19937 random(std::random_device{}());
  net::Backoff unhealthy(config_.check_interval, milliseconds(300'000));
  int unhealthy_streak = 0;
  int quick_reasks = 0;  // immediate retries after quick bare 204s, in a row
  // gitlab-runner spreads one check_interval over its [[runners]]; with a thread per entry each
  // waits the whole interval, jittered so that a fleet does not poll in step.
  auto jittered = [&](milliseconds base) {
    std::uniform_real_distribution<double> spread(0.9, 1.1);
    return milliseconds(static_cast<long long>(base.count() * spread(random)));
  };
  while (!stop_polling_) {
    if (!AcquireSlot(index)) break;
    Clock::time_point asked = Clock::now();
    Result<net::Response> answer =
        api.RequestJob(runner.token, system_id_, last_update, milliseconds(60'000));
    if (stop_polling_ && !(answer.ok() && answer->status == 201)) {
      ReleaseSlot(index);
      break;
    }
    if (answer.ok()) {
      if (auto header = answer->Header("X-GitLab-Last-Update"); header && !header->empty()) {
        last_update = *header;
      }
    }
    if (answer.ok() && answer->status == 201) {
      unhealthy_streak = 0;
      quick_reasks = 0;
      unhealthy.Reset();
      nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
      StartJob(index, std::move(body));  // the slot now belongs to the job
      if (options_.once) break;
      continue;  // ask again at once, as gitlab-runner does
    }
    ReleaseSlot(index);
    if (!answer.ok() || answer->status == 403 || answer->status == 422) {
      ++unhealthy_streak;
      milliseconds wait = unhealthy.Next();
      std::string cause = answer.ok() ? fmt::format("{} from jobs/request", answer->status)
                                      : answer.status().message();
      if (answer.ok() && answer->status == 403) cause += " (token invalid or runner removed)";
      if (unhealthy_streak == 1 || unhealthy_streak % 10 == 0) {
        Log(fmt::format("runner {}: unhealthy: {}; next try in {} s", runner.name, cause,
                        wait.count() / 1000.0));
      }
      if (!SleepPolling(wait)) break;
      continue;
    }
    if (unhealthy_streak > 0) Log(fmt::format("runner {}: healthy again", runner.name));
    unhealthy_streak = 0;
    unhealthy.Reset();
    milliseconds wait = jittered(config_.check_interval);
    // Workhorse ends a held request with a bare 204 (no X-GitLab-Last-Update) when the queue
    // changed or its hold timed out: ask again at once, to be held again or handed the job. A
    // change can land just after the hold began, so a quick bare 204 marked as Workhorse's
    // (Gitlab-Ci-Builds-Polling: yes) earns one immediate retry; a server answering bare 204s
    // quickly over and over falls back to check_interval instead of a hot loop.
    bool bare_204 = answer->status == 204 && !answer->Header("X-GitLab-Last-Update");
    bool held = Clock::now() - asked >= milliseconds(1000);
    std::optional<std::string> polling = answer->Header("Gitlab-Ci-Builds-Polling");
    bool workhorse = polling && *polling == "yes";
    if (bare_204 && (held || (workhorse && quick_reasks == 0))) {
      wait = milliseconds(0);
      quick_reasks = held ? 0 : quick_reasks + 1;
    } else {
      quick_reasks = 0;
    }
    if (auto asked_wait = net::ServerRequestedDelay(*answer, std::chrono::system_clock::now())) {
      wait = std::max(wait, *asked_wait);
    }
    if (!SleepPolling(wait)) break;
  }
}

void Runner::StartJob(size_t index, nlohmann::json body) {
  Result<JobPayload> job = ParseJobPayload(body);
  if (!job.ok()) {
    Log(fmt::format("runner {}: unusable job payload: {}", config_.runners[index].name,
                    job.status().message()));
    if (body.is_object() && body.contains("id") && body["id"].is_number_integer() &&
        body.contains("token") && body["token"].is_string()) {
      GitLabApi api(config_.runners[index].url, {}, config_.runners[index].request_idle_timeout);
      (void)api.UpdateJob(body["id"].get<int64_t>(), body["token"].get<std::string>(),
                          {{"state", "failed"}, {"failure_reason", "runner_system_failure"}});
    }
    ReleaseSlot(index);
    return;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // Join the threads of finished jobs so a long-lived runner does not collect them.
  for (auto it = job_threads_.begin(); it != job_threads_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = job_threads_.erase(it);
    } else {
      ++it;
    }
  }
  auto done = std::make_shared<std::atomic<bool>>(false);
  job_threads_.push_back(
      {std::thread([this, index, done, payload = std::move(job).value()]() mutable {
         RunOneJob(index, std::move(payload));
         done->store(true);
       }),
       done});
}

bool Runner::Acknowledge(const RunnerEntry& runner, const JobPayload& job, bool* cancel_now) {
  GitLabApi api(runner.url, {runner.tls_ca_file.string(), {}, {}, {}, &poll_abort_},
                runner.request_idle_timeout);
  net::Backoff backoff(milliseconds(500), milliseconds(8000));
  for (int attempt = 0; attempt < 6; ++attempt) {
    Result<JobAnswer> answer = api.UpdateJob(job.id, job.token, {{"state", "running"}});
    if (answer.ok()) {
      const auto& status = answer->job_status;
      if (answer->status == 403 || answer->status == 404 ||
          (status && (*status == "canceled" || *status == "failed"))) {
        Log(fmt::format("job {}: dropped by GitLab before it started ({})", job.id,
                        answer->status));
        return false;
      }
      if (status && *status == "canceling") *cancel_now = true;
      if (answer->response.ok()) return true;
    }
    std::this_thread::sleep_for(backoff.Next());
  }
  // The job is ours either way; running it is better than leaving it to the stuck-job timeout.
  Log(fmt::format("job {}: could not acknowledge it; running it anyway", job.id));
  return true;
}

void Runner::RunOneJob(size_t index, JobPayload job) {
  const RunnerEntry& runner = config_.runners[index];
  Log(fmt::format("job {}: received ({} / {}) on runner {}", job.id, job.project_path, job.name,
                  runner.name));
  bool cancel_now = false;
  bool delivered = false;
  if (Acknowledge(runner, job, &cancel_now)) {
    JobTrace::Options trace_options;
    trace_options.secrets = job.SecretValues();
    trace_options.token_prefixes = job.token_mask_prefixes;
    trace_options.output_limit_bytes = runner.output_limit_kib * 1024;
    trace_options.timestamps = runner.timestamps;
    std::error_code ec;
    std::filesystem::create_directories(runner.builds_dir, ec);
    trace_options.spool_dir = runner.builds_dir.string();
    // With a journal, a runner killed mid-job still delivers this job's log when it restarts.
    Result<JournalEntry> journal = BeginJournal(runner, job.id, job.token);
    if (journal.ok()) {
      trace_options.spool_path = journal->spool.string();
    } else {
      Log(fmt::format("job {}: no journal ({}); if the runner dies, its unsent log is lost", job.id,
                      journal.status().message()));
    }
    Result<std::unique_ptr<JobTrace>> trace = JobTrace::Create(trace_options);
    if (!trace.ok()) {
      if (journal.ok()) EndJournal(*journal);
      Log(fmt::format("job {}: {}", job.id, trace.status().message()));
      GitLabApi api(runner.url, {}, runner.request_idle_timeout);
      (void)api.UpdateJob(job.id, job.token,
                          {{"state", "failed"}, {"failure_reason", "runner_system_failure"}});
    } else {
      JobControl control;
      JobReporter reporter(runner, job.id, job.token, trace->get(),
                           [](const std::string& line) { Log(line); });
      reporter.OnCancel([&control] { control.Cancel(); });
      reporter.OnAbort([&control] { control.Abort(JobControl::AbortCause::kServer); });
      reporter.SetMetrics(&metrics_);
      reporter.SetStatusCheckBudget(&status_checks_);
      StatusCheckBudget::Membership status_check_share(status_checks_);
      metrics_.JobStarted();
      std::list<ActiveJob>::iterator registered;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        registered = active_.insert(active_.end(), ActiveJob{&control, &reporter});
        if (shutting_down_) control.Abort(JobControl::AbortCause::kShutdown);
      }
      if (cancel_now) control.Cancel();
      reporter.Start();
      RunContext context{&runner, runner.name, base_env_, &metrics_};
      FinalState state = RunJob(job, context, **trace, control);
      (*trace)->Close();
      milliseconds horizon = runner.final_update_horizon;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (shutting_down_) horizon = config_.shutdown_timeout;
      }
      delivered = reporter.Finish(state, horizon);
      metrics_.JobFinished(state.state);
      if (!delivered) metrics_.Error("final_update_not_delivered");
      Log(fmt::format("job {}: {}{} — final state {}", job.id, state.state,
                      state.failure_reason.empty() ? "" : " (" + state.failure_reason + ")",
                      delivered ? "delivered" : "NOT delivered"));
      if (journal.ok()) {
        if (delivered || reporter.aborted()) {
          EndJournal(*journal);
        } else {
          Log(fmt::format("job {}: kept in the journal; the next start reports it", job.id));
        }
      }
      std::lock_guard<std::mutex> lock(mutex_);
      active_.erase(registered);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++jobs_done_;
    if (!delivered) all_delivered_ = false;
  }
  ReleaseSlot(index);
  if (options_.once) StopPolling();
}

void Runner::RecoverJob(size_t index, const JournalEntry& entry) {
  const RunnerEntry& runner = config_.runners[index];
  Log(
      fmt::format("job {}: left unfinished by an earlier runner process; sending the rest of its "
                  "log and reporting it failed",
                  entry.job_id));
  JobTrace::Options options;
  options.secrets = {entry.token};
  options.timestamps = runner.timestamps;
  options.spool_path = entry.spool.string();
  options.resume = std::filesystem::exists(entry.spool);
  Result<std::unique_ptr<JobTrace>> trace = JobTrace::Create(options);
  if (!trace.ok()) {
    Log(fmt::format("job {}: {}", entry.job_id, trace.status().message()));
    return;  // the journal stays: the next start tries again
  }
  const uint64_t spooled_before = (*trace)->size();
  (*trace)->Write(JobTrace::kRunnerSource,
                  "\x1b[31;1mERROR: the runner process running this job ended without reporting "
                  "it (killed or crashed). stagehost reported it after a restart; the job's own "
                  "processes were not recovered.\x1b[0;m\n");
  (*trace)->Close();
  JobControl control;
  JobReporter reporter(runner, entry.job_id, entry.token, trace->get(),
                       [](const std::string& line) { Log(line); });
  reporter.SetMetrics(&metrics_);
  reporter.ResumeFrom(spooled_before);
  std::list<ActiveJob>::iterator registered;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    registered = active_.insert(active_.end(), ActiveJob{&control, &reporter, true});
    if (shutting_down_) reporter.ForceStop();
  }
  reporter.Start();
  bool delivered = reporter.Finish(FinalState{"failed", "runner_system_failure", 0},
                                   runner.final_update_horizon);
  if (delivered || reporter.aborted()) EndJournal(entry);
  Log(fmt::format("job {}: failed (runner_system_failure) — final state {}", entry.job_id,
                  delivered
                      ? "delivered"
                      : (reporter.aborted() ? "refused, the job is over" : "NOT delivered, kept")));
  std::lock_guard<std::mutex> lock(mutex_);
  active_.erase(registered);
}

void Runner::SignalLoop(sigset_t set) {
  int terms = 0;
  while (true) {
    int signal = 0;
    if (sigwait(&set, &signal) != 0) continue;
    if (signal == SIGUSR2) return;  // the loop is over
    if (signal == SIGQUIT) {
      Log("SIGQUIT: no new jobs; waiting for the running ones to finish");
      StopPolling();
      continue;
    }
    ++terms;
    std::lock_guard<std::mutex> lock(mutex_);
    if (terms == 1) {
      Log(fmt::format("{}: aborting running jobs, reporting them failed", strsignal(signal)));
      shutting_down_ = true;
      for (ActiveJob& job : active_) {
        if (job.recovery) {
          job.reporter->ForceStop();
        } else {
          job.control->Abort(JobControl::AbortCause::kShutdown);
        }
      }
    } else {
      Log(fmt::format("{} again: stopping now", strsignal(signal)));
      forced_ = true;
      for (ActiveJob& job : active_) job.reporter->ForceStop();
    }
    stop_polling_ = true;
    poll_abort_ = true;
    cv_.notify_all();
  }
}

int Runner::Run() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGQUIT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR2);
  // Blocked before any thread starts, so only the signal thread ever receives them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::thread signals([this, set] { SignalLoop(set); });

  Log(fmt::format("starting: {} runner(s), concurrent {}, system id {}", config_.runners.size(),
                  config_.concurrent, system_id_));
  std::unique_ptr<MetricsServer> metrics_server;
  if (!config_.listen_address.empty()) {
    Result<std::unique_ptr<MetricsServer>> started =
        MetricsServer::Start(config_.listen_address, metrics_);
    if (!started.ok()) {
      // A runner without its metrics still runs jobs; say so loudly instead of refusing to start.
      Log(fmt::format("metrics endpoint {}: {}", config_.listen_address,
                      started.status().message()));
    } else {
      metrics_server = std::move(*started);
      Log(fmt::format("metrics on http://{}/metrics (port {})", config_.listen_address,
                      metrics_server->port()));
    }
  }
  std::vector<std::thread> recoveries;
  for (size_t i = 0; i < config_.runners.size(); ++i) {
    std::vector<std::string> problems;
    for (JournalEntry& entry : FindJournaledJobs(config_.runners[i], &problems)) {
      recoveries.emplace_back([this, i, entry] { RecoverJob(i, entry); });
    }
    for (const std::string& problem : problems) Log(problem);
  }
  std::vector<std::thread> pollers;
  for (size_t i = 0; i < config_.runners.size(); ++i) {
    uint64_t threads = options_.once ? 1 : config_.runners[i].request_concurrency;
    for (uint64_t t = 0; t < threads; ++t) pollers.emplace_back([this, i] { PollLoop(i); });
  }
  for (std::thread& poller : pollers) poller.join();

  // Polling is over; wait for the jobs (a forced stop makes them end within ~a second).
  {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return running_total_ == 0; });
  }
  std::list<JobThread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    threads.swap(job_threads_);
  }
  for (JobThread& job : threads) job.thread.join();
  for (std::thread& recovery : recoveries) recovery.join();
  pthread_kill(signals.native_handle(), SIGUSR2);
  signals.join();

  std::lock_guard<std::mutex> lock(mutex_);
  Log(fmt::format("stopped after {} job(s)", jobs_done_));
  if (forced_) return 2;
  if (shutting_down_) return 1;
  if (options_.once) return all_delivered_ && jobs_done_ > 0 ? 0 : 1;
  return 0;
}

}  // namespace

int RunRunner(const RunnerConfig& config, const RunnerOptions& options) {
  Runner runner(config, options);
  return runner.Run();
}

}  // namespace stagehost::gitlab
