// sharding.h -- deterministic split of a test list into N shards, balanced by known durations.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace stagehost::unit_test {

// Greedy bin packing (longest processing time first): tests sorted by duration descending (ties
// by id), each to the shard with the least total so far (ties to the lowest index). Tests without
// a known duration weigh the median of the known ones (1 s when none is known), so with no
// durations at all the split is a round-robin over the sorted ids. Same input, same split, on
// every machine. Returns the ids of shard `index` (0-based) of `total`, sorted.
std::vector<std::string> ShardTests(std::vector<std::string> ids, std::size_t index,
                                    std::size_t total,
                                    const std::map<std::string, double>& durations);

}  // namespace stagehost::unit_test
