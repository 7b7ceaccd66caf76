// Runner metrics: a thread-safe registry in Prometheus text format and a tiny /metrics server.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/status.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {

// The runner's metrics, all named stagehost_runner_*. Every method may be called from any thread;
// one mutex guards the values (updates are rare next to a job's work, so contention does not
// matter). Families with no labels are rendered from the start (value 0), labelled ones once a
// label set has been seen.
class RunnerMetrics {
 public:
  RunnerMetrics();

  void JobStarted();                         // jobs_running + 1
  void JobFinished(std::string_view state);  // jobs_running - 1, jobs_finished_total{state} + 1
  void TraceBytesSent(uint64_t bytes);       // trace_bytes_sent_total
  // api_requests_total{endpoint="jobs/request",status="201"}; status 0 = no HTTP answer.
  void ApiRequest(std::string_view endpoint, int status);
  void Retry(std::string_view kind);  // retries_total{kind}
  void Error(std::string_view kind);  // errors_total{kind}

  // Generic access, for metrics added later without a method of their own. `name` must be one
  // of the registered families; label names must match the family's (otherwise ignored, so a
  // mistyped call can never break the exposition).
  void Add(std::string_view name, const std::vector<std::string>& label_values, double delta);
  void Set(std::string_view name, const std::vector<std::string>& label_values, double value);

  // The text exposition format 0.0.4: per family # HELP, # TYPE, then one line per label set in
  // sorted order; label values escaped (\\, \", \n), HELP text escaped (\\, \n).
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    std::string type;  // counter | gauge
    std::vector<std::string> label_names;
    std::map<std::vector<std::string>, double> values;
  };
  void Register(std::string name, std::string type, std::string help,
                std::vector<std::string> label_names);
  Family* Find(std::string_view name);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// "a\"b" → a\"b as a label value is written; exposed for tests.
std::string EscapeLabelValue(std::string_view value);

// Serves GET /metrics (and HEAD) with RunnerMetrics::Render() on its own thread; any other path is
// a 404, any other method a 405. One connection at a time, each closed after its answer, with a
// 5 s read limit so a stalled client cannot hold the endpoint: enough for a scraper or two.
// A minimal poll-based HTTP/1.x server rather than cpp-httplib: Debian's cpp-httplib is a shared
// library that pulls OpenSSL, brotli and zlib into every `stagehost` start, for one endpoint.
class MetricsServer {
 public:
  // Binds `listen_address` ("host:port", "[v6]:port", ":port" = every interface; port 0 picks a
  // free one) and starts serving. `metrics` must outlive the server.
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen_address,
                                                      const RunnerMetrics& metrics);
  ~MetricsServer();  // Stop()
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }
  // Wakes the thread, joins it and closes the socket; idempotent.
  void Stop();

 private:
  MetricsServer(const RunnerMetrics& metrics, UniqueFd listen_fd, UniqueFd wake_read,
                UniqueFd wake_write, int port);
  void Serve();
  void Answer(int fd);

  const RunnerMetrics& metrics_;
  UniqueFd listen_fd_;
  UniqueFd wake_read_;
  UniqueFd wake_write_;
  int port_ = 0;
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace stagehost::gitlab
