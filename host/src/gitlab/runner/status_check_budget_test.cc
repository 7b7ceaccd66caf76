// StatusCheckBudget: the interval grows with the live jobs past the floor; 0 means no cap.
#include "gitlab/runner/status_check_budget.h"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace stagehost::gitlab {
namespace {
using std::chrono::milliseconds;

TEST(StatusCheckBudgetTest, IntervalGrowsWithLiveJobsAboveTheFloor) {
  StatusCheckBudget budget(20);
  EXPECT_EQ(budget.Interval(milliseconds(1500)), milliseconds(1500));
  std::vector<std::unique_ptr<StatusCheckBudget::Membership>> jobs;
  for (int i = 0; i < 30; ++i)
    jobs.push_back(std::make_unique<StatusCheckBudget::Membership>(budget));
  EXPECT_EQ(budget.Interval(milliseconds(1500)), milliseconds(1500));  // 30 / 20 = 1.5 s
  for (int i = 0; i < 170; ++i) {
    jobs.push_back(std::make_unique<StatusCheckBudget::Membership>(budget));
  }
  EXPECT_EQ(budget.Interval(milliseconds(1500)), milliseconds(10'000));  // 200 / 20
  jobs.resize(40);  // leaving jobs give their share back
  EXPECT_EQ(budget.Interval(milliseconds(1500)), milliseconds(2'000));
}

TEST(StatusCheckBudgetTest, ZeroMeansNoCap) {
  StatusCheckBudget budget(0);
  StatusCheckBudget::Membership a(budget), b(budget);
  EXPECT_EQ(budget.Interval(milliseconds(1500)), milliseconds(1500));
}

}  // namespace
}  // namespace stagehost::gitlab
