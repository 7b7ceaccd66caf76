// sharding_test.cc -- the shard split: deterministic, complete, disjoint, balanced by durations.
#include "sharding.h"

#include <gtest/gtest.h>

#include <set>

namespace stagehost::unit_test {
namespace {

TEST(ShardTests, EveryTestInExactlyOneShard) {
  std::vector<std::string> ids;
  for (int i = 0; i < 103; ++i) ids.push_back("t" + std::to_string(i));
  std::set<std::string> seen;
  std::size_t largest = 0, smallest = 1000;
  for (std::size_t s = 0; s < 4; ++s) {
    auto shard = ShardTests(ids, s, 4, {});
    largest = std::max(largest, shard.size());
    smallest = std::min(smallest, shard.size());
    for (const auto& id : shard) EXPECT_TRUE(seen.insert(id).second) << id;
  }
  EXPECT_EQ(seen.size(), 103u);
  EXPECT_LE(largest - smallest, 1u);  // 26, 26, 26, 25
}

TEST(ShardTests, SameSplitWhateverTheInputOrder) {
  std::vector<std::string> a = {"c", "a", "b", "d", "e"};
  std::vector<std::string> b = {"e", "d", "c", "b", "a"};
  for (std::size_t s = 0; s < 2; ++s) EXPECT_EQ(ShardTests(a, s, 2, {}), ShardTests(b, s, 2, {}));
}

TEST(ShardTests, BalancesByDurations) {
  // One 10 s test and nine 1 s tests over two shards: LPT puts the long one alone with 0..
  std::vector<std::string> ids = {"long"};
  std::map<std::string, double> durations = {{"long", 10.0}};
  for (int i = 0; i < 9; ++i) {
    ids.push_back("s" + std::to_string(i));
    durations["s" + std::to_string(i)] = 1.0;
  }
  auto first = ShardTests(ids, 0, 2, durations);
  auto second = ShardTests(ids, 1, 2, durations);
  EXPECT_EQ(first, std::vector<std::string>{"long"});
  EXPECT_EQ(second.size(), 9u);
}

TEST(ShardTests, UnknownTestsWeighTheMedian) {
  std::vector<std::string> ids = {"a", "b", "c", "new"};
  std::map<std::string, double> durations = {{"a", 5}, {"b", 5}, {"c", 5}};
  auto s0 = ShardTests(ids, 0, 2, durations);
  auto s1 = ShardTests(ids, 1, 2, durations);
  EXPECT_EQ(s0.size(), 2u);
  EXPECT_EQ(s1.size(), 2u);
}

TEST(ShardTests, OneShardIsEverything) {
  EXPECT_EQ(ShardTests({"b", "a"}, 0, 1, {}), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace stagehost::unit_test
