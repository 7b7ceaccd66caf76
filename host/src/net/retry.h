// Retry policy shared by the API clients: which answers are worth repeating, and how long to wait.
#pragma once

#include <chrono>
#include <optional>
#include <random>

#include "net/http_client.h"

namespace stagehost::net {

// 408, 429, 500, 502, 503, 504 and >= 512, as gitlab-runner's HTTP layer (api reference §11).
bool IsRetryableStatus(long status);

// The wait the server asked for: `RateLimit-ResetTime` (an HTTP date) wins over `Retry-After`
// (seconds or an HTTP date). Nothing when neither is present or parseable.
std::optional<std::chrono::milliseconds> ServerRequestedDelay(
    const Response& response, std::chrono::system_clock::time_point now);

// Capped exponential backoff with full jitter in [delay/2, delay], so a fleet does not retry in
// step.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double factor = 2.0);
  std::chrono::milliseconds Next();
  void Reset() { current_ = initial_; }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  double factor_;
  std::chrono::milliseconds current_;
  std::minstd_rand random_;
};

}  // namespace stagehost::net
