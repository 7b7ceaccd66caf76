// StatusCheckBudget: spreads silent jobs' status checks so that together they stay under a rate.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace stagehost::gitlab {

// A job that prints nothing learns of a cancel only by asking GitLab (PUT state=running). Every
// 1.5 s per job that is cheap for a few jobs and a flood for hundreds, so the interval grows with
// the number of live jobs: n jobs at `per_second` checks a second ask every n / per_second s,
// never more often than the configured floor. Thread-safe.
class StatusCheckBudget {
 public:
  explicit StatusCheckBudget(uint64_t per_second) : per_second_(per_second) {}

  // A live job joins for as long as it may send status checks.
  class Membership {
   public:
    explicit Membership(StatusCheckBudget& budget) : budget_(budget) { ++budget_.live_; }
    ~Membership() { --budget_.live_; }
    Membership(const Membership&) = delete;
    Membership& operator=(const Membership&) = delete;

   private:
    StatusCheckBudget& budget_;
  };

  std::chrono::milliseconds Interval(std::chrono::milliseconds floor) const {
    if (per_second_ == 0) return floor;  // no cap configured
    auto share = std::chrono::milliseconds(static_cast<int64_t>(live_.load()) * 1000 /
                                           static_cast<int64_t>(per_second_));
    return std::max(floor, share);
  }

 private:
  const uint64_t per_second_;
  std::atomic<int64_t> live_{0};
};

}  // namespace stagehost::gitlab
