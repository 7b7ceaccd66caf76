// GitLabApi: the runner job API calls (verify, request, update, trace), bytes and JSON only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "net/http_client.h"
#include "util/status.h"

namespace stagehost::gitlab {

class RunnerMetrics;

// The `info` object sent on verify, every jobs/request and every PUT (api reference §3): every
// feature key present, true only for what this runner really does.
nlohmann::json RunnerInfo();

// `s_` + 12 hex of HMAC-SHA256(machine-id, "gitlab-runner"), or `r_` + 12 random alphanumerics
// kept in `state_file` when the machine has no id; always 14 characters.
std::string SystemId(const std::string& state_file);

// What the job API's answers carry besides the status (api reference §6, §8).
struct JobAnswer {
  long status = 0;
  std::optional<std::string> job_status;       // Job-Status
  std::optional<std::string> update_interval;  // X-GitLab-Trace-Update-Interval, raw
  std::optional<uint64_t> range_end;           // second number of `Range: 0-<n>`
  net::Response response;
};

// One instance per thread (it owns one HttpClient). Paths are under <url>/api/v4/.
class GitLabApi {
 public:
  GitLabApi(const std::string& url, net::ClientOptions options, std::chrono::milliseconds idle);

  Result<net::Response> VerifyRunner(const std::string& token, const std::string& system_id);
  Result<net::Response> RequestJob(const std::string& token, const std::string& system_id,
                                   const std::string& last_update, std::chrono::milliseconds wait);
  // PUT jobs/:id with `body` (token and info are added).
  Result<JobAnswer> UpdateJob(int64_t job_id, const std::string& job_token, nlohmann::json body);
  // PATCH jobs/:id/trace with bytes [offset, offset + length) of `fd`.
  Result<JobAnswer> PatchTrace(int64_t job_id, const std::string& job_token, int fd,
                               uint64_t offset, uint64_t length);

  const std::string& base() const { return base_; }
  // Counts every call by endpoint and status from now on; `metrics` must outlive this object.
  void set_metrics(RunnerMetrics* metrics) { metrics_ = metrics; }

 private:
  Result<net::Response> Send(const char* endpoint, const net::Request& request);
  net::Request Json(const std::string& method, const std::string& path, const nlohmann::json& body);
  static JobAnswer ToAnswer(net::Response response);

  std::string base_;  // …/api/v4/
  net::HttpClient http_;
  std::chrono::milliseconds idle_;
  RunnerMetrics* metrics_ = nullptr;
};

// "https://gitlab.example.com/ci/" -> "https://gitlab.example.com/api/v4/".
std::string ApiBase(std::string url);

}  // namespace stagehost::gitlab
