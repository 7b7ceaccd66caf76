// sharding.cc -- LPT greedy bin packing over test ids; deterministic by construction.
#include "sharding.h"

#include <algorithm>
#include <queue>
#include <tuple>

namespace stagehost::unit_test {

std::vector<std::string> ShardTests(std::vector<std::string> ids, std::size_t index,
                                    std::size_t total,
                                    const std::map<std::string, double>& durations) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (total <= 1) return ids;
  std::vector<double> known;
  for (const std::string& id : ids) {
    auto it = durations.find(id);
    if (it != durations.end()) known.push_back(it->second);
  }
  double fallback = 1.0;
  if (!known.empty()) {
    std::nth_element(known.begin(), known.begin() + known.size() / 2, known.end());
    fallback = known[known.size() / 2];
  }
  std::vector<std::pair<double, const std::string*>> weighted;
  weighted.reserve(ids.size());
  for (const std::string& id : ids) {
    auto it = durations.find(id);
    weighted.emplace_back(it == durations.end() ? fallback : it->second, &id);
  }
  // std::sort with a total order (duration desc, then id) keeps the result independent of the
  // library's sort algorithm.
  std::sort(weighted.begin(), weighted.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first > b.first;
    return *a.second < *b.second;
  });
  // Min-heap of (load, shard index).
  using Bin = std::pair<double, std::size_t>;
  std::priority_queue<Bin, std::vector<Bin>, std::greater<Bin>> bins;
  for (std::size_t i = 0; i < total; ++i) bins.emplace(0.0, i);
  std::vector<std::string> mine;
  for (const auto& [weight, id] : weighted) {
    Bin bin = bins.top();
    bins.pop();
    if (bin.second == index) mine.push_back(*id);
    bin.first += weight;
    bins.push(bin);
  }
  std::sort(mine.begin(), mine.end());
  return mine;
}

}  // namespace stagehost::unit_test
