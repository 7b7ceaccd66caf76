// GitLab runner job API over HttpClient: request shapes of gitlab-runner-api.md §1–§8.
#include "gitlab/runner/api_client.h"

#include <fmt/format.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/utsname.h>

#include <fstream>
#include <random>

#include "gitlab/runner/metrics.h"

namespace stagehost::gitlab {
namespace {

std::string RequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    std::random_device random;
    for (unsigned char& b : bytes) b = static_cast<unsigned char>(random());
  }
  std::string id;
  for (unsigned char b : bytes) id += fmt::format("{:02x}", b);
  return id;
}

std::string Architecture() {
  utsname name{};
  if (::uname(&name) != 0) return "unknown";
  std::string machine = name.machine;
  if (machine == "x86_64") return "amd64";
  if (machine == "aarch64") return "arm64";
  return machine;
}

std::optional<uint64_t> RangeEnd(const std::optional<std::string>& range) {
  if (!range) return std::nullopt;
  auto dash = range->find('-');
  if (dash == std::string::npos || dash + 1 >= range->size()) return std::nullopt;
  std::string digits = range->substr(dash + 1);
  if (digits.find_first_not_of("0123456789") != std::string::npos || digits.size() > 19) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

}  // namespace

nlohmann::json RunnerInfo() {
  // Every key gitlab-runner serialises; true only where this runner implements the behaviour.
  // `refspecs` must be true for GitLab to hand out any job at all.
  const char* supported[] = {"variables",
                             "raw_variables",
                             "masking",
                             "multi_build_steps",
                             "return_exit_code",
                             "refspecs",
                             "trace_reset",
                             "trace_checksum",
                             "trace_size",
                             "cancelable",
                             "cancel_gracefully",
                             "artifacts",
                             "artifacts_exclude",
                             "upload_multiple_artifacts",
                             "upload_raw_artifacts",
                             "cache",
                             "fallback_cache_keys"};
  const char* unsupported[] = {"image",
                               "services",
                               "shared",
                               "session",
                               "terminal",
                               "proxy",
                               "vault_secrets",
                               "service_variables",
                               "service_multiple_aliases",
                               "image_executor_opts",
                               "service_executor_opts",
                               "native_steps_integration",
                               "two_phase_job_commit",
                               "job_inputs"};
  nlohmann::json features = nlohmann::json::object();
  for (const char* key : supported) features[key] = true;
  for (const char* key : unsupported) features[key] = false;
  return {{"name", "stagehost"},
          {"version", STAGEHOST_VERSION},
          {"revision", "unknown"},
          {"platform", "linux"},
          {"architecture", Architecture()},
          {"executor", "stagehost"},
          {"shell", "bash"},
          {"features", features},
          {"config", {{"gpus", ""}}},
          {"labels", nlohmann::json::object()}};
}

std::string SystemId(const std::string& state_file) {
  std::string machine_id;
  std::ifstream("/etc/machine-id") >> machine_id;
  if (!machine_id.empty()) {
    static const char kData[] = "gitlab-runner";
    unsigned char mac[32];
    unsigned int length = 0;
    HMAC(EVP_sha256(), machine_id.data(), static_cast<int>(machine_id.size()),
         reinterpret_cast<const unsigned char*>(kData), sizeof(kData) - 1, mac, &length);
    std::string id = "s_";
    for (int i = 0; i < 6; ++i) id += fmt::format("{:02x}", mac[i]);
    return id;
  }
  std::string saved;
  std::ifstream(state_file) >> saved;
  if (saved.size() == 14 && saved.rfind("r_", 0) == 0) return saved;
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  unsigned char bytes[12];
  RAND_bytes(bytes, sizeof(bytes));
  std::string id = "r_";
  for (unsigned char b : bytes) id += kAlphabet[b % (sizeof(kAlphabet) - 1)];
  std::ofstream(state_file) << id << '\n';
  return id;
}

std::string ApiBase(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.size() >= 3 && url.compare(url.size() - 3, 3, "/ci") == 0) url.resize(url.size() - 3);
  return url + "/api/v4/";
}

GitLabApi::GitLabApi(const std::string& url, net::ClientOptions options,
                     std::chrono::milliseconds idle)
    : base_(ApiBase(url)),
      http_([&] {
        if (options.user_agent.empty()) {
          options.user_agent =
              fmt::format("stagehost {} (linux/{})", STAGEHOST_VERSION, Architecture());
        }
        return std::move(options);
      }()),
      idle_(idle) {}

net::Request GitLabApi::Json(const std::string& method, const std::string& path,
                             const nlohmann::json& body) {
  net::Request request;
  request.method = method;
  request.url = base_ + path;
  request.headers = {{"Content-Type", "application/json"},
                     {"Accept", "application/json"},
                     {"X-Request-Id", RequestId()}};
  request.body = body.dump();
  request.timeouts.idle = idle_;
  return request;
}

Result<net::Response> GitLabApi::Send(const char* endpoint, const net::Request& request) {
  Result<net::Response> response = http_.Send(request);
  if (metrics_ != nullptr) metrics_->ApiRequest(endpoint, response.ok() ? response->status : 0);
  return response;
}

JobAnswer GitLabApi::ToAnswer(net::Response response) {
  JobAnswer answer;
  answer.status = response.status;
  answer.job_status = response.Header("Job-Status");
  answer.update_interval = response.Header("X-GitLab-Trace-Update-Interval");
  answer.range_end = RangeEnd(response.Header("Range"));
  answer.response = std::move(response);
  return answer;
}

Result<net::Response> GitLabApi::VerifyRunner(const std::string& token,
                                              const std::string& system_id) {
  net::Request request = Json("POST", "runners/verify",
                              {{"token", token}, {"system_id", system_id}, {"info", RunnerInfo()}});
  request.headers.push_back({"RUNNER-TOKEN", token});
  return Send("runners/verify", request);
}

Result<net::Response> GitLabApi::RequestJob(const std::string& token, const std::string& system_id,
                                            const std::string& last_update,
                                            std::chrono::milliseconds wait) {
  nlohmann::json body = {{"token", token}, {"system_id", system_id}, {"info", RunnerInfo()}};
  if (!last_update.empty()) body["last_update"] = last_update;
  net::Request request = Json("POST", "jobs/request", body);
  request.headers.push_back({"RUNNER-TOKEN", token});
  // Workhorse may hold this request for its long-poll duration (50 s by default) before a 204.
  request.timeouts.idle = std::max(idle_, wait);
  return Send("jobs/request", request);
}

Result<JobAnswer> GitLabApi::UpdateJob(int64_t job_id, const std::string& job_token,
                                       nlohmann::json body) {
  body["token"] = job_token;
  body["info"] = RunnerInfo();
  net::Request request = Json("PUT", fmt::format("jobs/{}", job_id), body);
  request.headers.push_back({"JOB-TOKEN", job_token});
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send("jobs/update", request));
  return ToAnswer(std::move(response));
}

Result<JobAnswer> GitLabApi::PatchTrace(int64_t job_id, const std::string& job_token, int fd,
                                        uint64_t offset, uint64_t length) {
  net::Request request;
  request.method = "PATCH";
  request.url = base_ + fmt::format("jobs/{}/trace?debug_trace=false", job_id);
  request.headers = {{"Content-Type", "text/plain"},
                     {"JOB-TOKEN", job_token},
                     // Inclusive end, no unit and no total, as GitLab expects (api reference §6).
                     {"Content-Range", fmt::format("{}-{}", offset, offset + length - 1)},
                     {"X-Request-Id", RequestId()}};
  request.body_fd = fd;
  request.body_offset = offset;
  request.body_length = length;
  request.timeouts.idle = idle_;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send("jobs/trace", request));
  return ToAnswer(std::move(response));
}

}  // namespace stagehost::gitlab
