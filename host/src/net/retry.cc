// Retry policy: retryable statuses, server-requested delays and jittered capped backoff.
#include "net/retry.h"

#include <ctime>
#include <string>

namespace stagehost::net {
namespace {

// RFC 1123 ("Sun, 06 Nov 1994 08:49:37 GMT"), the only HTTP-date form servers send today.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (end == nullptr || *end != '\0') return std::nullopt;
  time_t seconds = timegm(&tm);
  if (seconds == static_cast<time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(seconds);
}

std::optional<std::chrono::milliseconds> UntilDate(const std::string& text,
                                                   std::chrono::system_clock::time_point now) {
  auto date = ParseHttpDate(text);
  if (!date) return std::nullopt;
  if (*date <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(*date - now);
}

}  // namespace

bool IsRetryableStatus(long status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 ||
         status == 504 || status >= 512;
}

std::optional<std::chrono::milliseconds> ServerRequestedDelay(
    const Response& response, std::chrono::system_clock::time_point now) {
  if (auto reset = response.Header("RateLimit-ResetTime")) {
    if (auto wait = UntilDate(*reset, now)) return wait;
  }
  auto retry_after = response.Header("Retry-After");
  if (!retry_after) return std::nullopt;
  const std::string& value = *retry_after;
  if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos &&
      value.size() <= 9) {
    return std::chrono::seconds(std::stol(value));
  }
  return UntilDate(value, now);
}

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double factor)
    : initial_(initial),
      max_(max),
      factor_(factor),
      current_(initial),
      random_(static_cast<unsigned>(std::random_device{}())) {}

std::chrono::milliseconds Backoff::Next() {
  auto delay = current_;
  auto grown = std::chrono::milliseconds(static_cast<long long>(current_.count() * factor_));
  current_ = std::min(grown, max_);
  long long half = delay.count() / 2;
  std::uniform_int_distribution<long long> jitter(0, delay.count() - half);
  return std::chrono::milliseconds(half + jitter(random_));
}

}  // namespace stagehost::net
