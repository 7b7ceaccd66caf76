// Retry policy: retryable statuses, Retry-After / RateLimit-ResetTime, jittered capped backoff.
#include "net/retry.h"

#include <gtest/gtest.h>

namespace stagehost::net {
namespace {

TEST(RetryTest, RetryableStatusesMatchTheReference) {
  for (long status : {408, 429, 500, 502, 503, 504, 512, 599})
    EXPECT_TRUE(IsRetryableStatus(status));
  for (long status : {200, 400, 401, 403, 404, 409, 412, 413, 416, 501, 505, 511}) {
    EXPECT_FALSE(IsRetryableStatus(status)) << status;
  }
}

TEST(RetryTest, ServerDelayPrefersRateLimitResetTime) {
  auto now = std::chrono::system_clock::from_time_t(784111777);  // Sun, 06 Nov 1994 08:49:37 GMT
  Response response;
  response.headers = {{"Retry-After", "7"}};
  EXPECT_EQ(ServerRequestedDelay(response, now), std::chrono::milliseconds(7000));
  response.headers.push_back({"RateLimit-ResetTime", "Sun, 06 Nov 1994 08:49:47 GMT"});
  EXPECT_EQ(ServerRequestedDelay(response, now), std::chrono::milliseconds(10000));
  Response date;
  date.headers = {{"retry-after", "Sun, 06 Nov 1994 08:49:40 GMT"}};
  EXPECT_EQ(ServerRequestedDelay(date, now), std::chrono::milliseconds(3000));
  Response junk;
  junk.headers = {{"Retry-After", "soon"}};
  EXPECT_FALSE(ServerRequestedDelay(junk, now).has_value());
}

TEST(RetryTest, BackoffGrowsWithJitterAndIsCapped) {
  Backoff backoff(std::chrono::milliseconds(100), std::chrono::milliseconds(1000));
  std::chrono::milliseconds previous_cap(100);
  for (int i = 0; i < 10; ++i) {
    auto delay = backoff.Next();
    EXPECT_GE(delay.count(), previous_cap.count() / 2);
    EXPECT_LE(delay.count(), previous_cap.count());
    previous_cap = std::min(previous_cap * 2, std::chrono::milliseconds(1000));
  }
  backoff.Reset();
  EXPECT_LE(backoff.Next().count(), 100);
}

}  // namespace
}  // namespace stagehost::net
