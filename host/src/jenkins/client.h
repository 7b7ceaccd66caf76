// Client of a Jenkins controller's remote access API (jenkins-api.md): jobs, queue items, builds,
// console text, artifacts and test reports. It moves bytes and JSON; it knows nothing of stagehost
// plugins or jobs.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jenkins/progressive_log.h"
#include "net/http_client.h"
#include "util/status.h"

namespace stagehost::jenkins {

struct Credentials {
  std::string url;    // controller root, e.g. https://ci.example.com/jenkins
  std::string user;   // JENKINS_USER_ID
  std::string token;  // JENKINS_API_TOKEN (an API token; a password works too, with crumbs)
};

// Flags win over JENKINS_URL, JENKINS_USER_ID, JENKINS_API_TOKEN; the error names every missing
// one.
Result<Credentials> ResolveCredentials(std::string url, std::string user, std::string token);

// "team/svc/api" -> "/job/team/job/svc/job/api", each segment URL-encoded on its own.
Result<std::string> JobPath(std::string_view full_name);

struct ClientConfig {
  Credentials credentials;
  net::Timeouts timeouts{std::chrono::seconds(10), std::chrono::seconds(30),
                         std::chrono::minutes(2)};
  // Retries of 5xx answers and transport failures, with capped jittered backoff.
  int max_attempts = 8;
  std::chrono::milliseconds retry_initial{250};
  std::chrono::milliseconds retry_max{5000};
  const std::atomic<bool>* abort = nullptr;
  // Receives one line per retry or recovered problem (stagehost prints them to stderr).
  std::function<void(const std::string&)> on_notice;
};

struct ParameterDefinition {
  std::string name;
  std::string default_value;
};

struct JobInfo {
  std::string full_name;
  bool buildable = true;
  bool parameterised = false;  // has a ParametersDefinitionProperty
  std::vector<ParameterDefinition> parameters;
};

struct QueueItemState {
  std::int64_t id = 0;
  bool cancelled = false;
  std::optional<std::int64_t> build_number;  // from `executable`
  std::string why;
  bool left = false;  // a LeftItem: cancelled, or started (possibly without `executable`)
};

struct Artifact {
  std::string file_name;
  std::string relative_path;
};

struct BuildInfo {
  std::int64_t number = 0;
  bool building = true;
  std::optional<std::string> result;  // null until set
  std::int64_t duration_ms = 0;
  std::int64_t queue_id = 0;
  std::vector<Artifact> artifacts;
  bool finished() const { return !building && result.has_value(); }
};

// How hard to stop a running build: stop interrupts it, term sends every Pipeline step an
// ABORTED failure, kill ends a Pipeline at once.
enum class StopMode { kStop, kTerm, kKill };
const char* StopModeName(StopMode mode);

class Client {
 public:
  explicit Client(ClientConfig config);

  const std::string& base_url() const { return base_; }
  // Browser URL of a build, built from JENKINS_URL (the server's own `url` may name an inner host).
  std::string BuildUrl(const std::string& job_path, std::int64_t number) const;

  Result<JobInfo> GetJob(const std::string& job_path);
  // POST build (no parameters) or buildWithParameters; returns the queue item id from Location.
  Result<std::int64_t> Trigger(const std::string& job_path,
                               const std::vector<std::pair<std::string, std::string>>& params,
                               bool with_parameters);
  // nullopt when the item is unknown (404): too early, or expired from the left-item cache.
  Result<std::optional<QueueItemState>> GetQueueItem(std::int64_t id);
  // Searches allBuilds[number,queueId] for the build an expired queue item became.
  Result<std::optional<std::int64_t>> FindBuildByQueueId(const std::string& job_path,
                                                         std::int64_t queue_id);
  Result<BuildInfo> GetBuild(const std::string& job_path, std::int64_t number);
  Result<TextChunk> ProgressiveText(const std::string& job_path, std::int64_t number,
                                    std::uint64_t start);
  // Streams the whole console (`consoleText`) to `on_chunk`; `on_restart` runs before a retry
  // sends it again from the start.
  Status ConsoleText(const std::string& job_path, std::int64_t number,
                     const std::function<void(std::string_view)>& on_chunk,
                     const std::function<void()>& on_restart);
  // POST N/stop, N/term or N/kill (jenkins-api.md §9); term and kill exist for Pipelines only
  // (kNotFound on a freestyle build).
  Status StopBuild(const std::string& job_path, std::int64_t number,
                   StopMode mode = StopMode::kStop);
  Status CancelQueueItem(std::int64_t id);
  // Streams one artifact to `destination` (via a temporary beside it, renamed when complete).
  Status DownloadArtifact(const std::string& job_path, std::int64_t number,
                          const std::string& relative_path,
                          const std::filesystem::path& destination);
  // nullopt when the build has no test report (404).
  Result<std::optional<nlohmann::json>> GetTestReport(const std::string& job_path,
                                                      std::int64_t number);

 private:
  // Auth, cookies, crumb (POST only), retries. `rewind` runs before each retry of a streamed body.
  Result<net::Response> Send(net::Request request, const std::function<Status()>& rewind = {});
  Result<net::Response> SendOnce(net::Request request, bool post);
  Status FetchCrumb();
  Result<nlohmann::json> GetJson(const std::string& path);
  void Notice(const std::string& text) const;

  ClientConfig config_;
  std::string base_;
  std::string auth_header_;
  net::HttpClient http_;
  std::vector<std::pair<std::string, std::string>> cookies_;
  std::optional<std::pair<std::string, std::string>> crumb_;  // field, value
};

// Status for a non-2xx answer: 401 bad credentials, 403 the missing permission, 404 not found,
// 5xx unavailable; `what` names the request.
Status HttpError(const net::Response& response, const std::string& what);

}  // namespace stagehost::jenkins
