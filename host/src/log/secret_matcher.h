// SecretMatcher: finds every occurrence of a set of secret values in a byte stream, at a cost per
// byte that does not grow with the number of secrets.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::log {

// An Aho-Corasick automaton over the secrets, fronted by a filter on the first (up to) 4 bytes of
// every secret. Positions where no secret can start are skipped by the filter at a fixed cost per
// byte; the automaton runs only from filter hits until the partial match dies, so throughput is
// flat in the number of secrets and overlaps (borders such as `aab`, `abcabd`, secrets inside
// other secrets) are handled exactly.
//
// Immutable once built; share one instance between any number of streams and threads through
// std::shared_ptr<const SecretMatcher>. Each stream keeps its own `State`.
class SecretMatcher {
 public:
  // Refuses secret sets larger than this in total (the automaton takes ~32 bytes per secret byte).
  static constexpr size_t kMaxTotalBytes = size_t{64} << 20;

  // Compiles the matcher. Empty values and duplicates are ignored; an empty set is valid and
  // matches nothing. Fails only with kInvalidArgument when the set exceeds kMaxTotalBytes.
  static Result<std::shared_ptr<const SecretMatcher>> Create(std::span<const std::string> secrets);
  static Result<std::shared_ptr<const SecretMatcher>> Create(
      std::span<const std::string_view> secrets);

  // Per-stream scanning state: the automaton node, i.e. the longest suffix of the bytes scanned
  // so far that is a prefix of some secret. Value-initialised = start of a stream.
  struct State {
    uint32_t node = 0;
  };

  // Scans data[from, data.size()) continuing `*state`. Stops right after the first byte that ends
  // an occurrence of a secret and returns the index after it, with `*match_length` set to the
  // length of the longest secret ending there (shorter ones ending there lie inside it). Returns
  // data.size() with `*match_length` = 0 when no occurrence ends in the range. Calling again
  // with the returned index continues the scan; `data` may be the next chunk of the stream.
  size_t Scan(State* state, std::string_view data, size_t from, size_t* match_length) const;

  // Length of the live partial match at the end of the scanned bytes: the trailing bytes that a
  // later chunk could still turn into (part of) an occurrence. Never more than the longest secret.
  size_t LiveLength(State state) const { return nodes_[state.node].depth; }

  // True when some secret occurs in `text` (scanned as a whole stream).
  bool ContainsAny(std::string_view text) const;

  bool empty() const { return secret_count_ == 0; }
  size_t secret_count() const { return secret_count_; }
  size_t max_secret_length() const { return max_length_; }

 private:
  struct Node {
    uint32_t fail = 0;         // node of the longest proper suffix that is also a trie node
    uint32_t depth = 0;        // length of the prefix this node spells
    uint32_t out_length = 0;   // longest secret that is a suffix of this prefix, 0 if none
    uint32_t edges_begin = 0;  // children in edges_[edges_begin, edges_begin + edge_count)
    uint32_t edge_count = 0;
    uint32_t dense_row = kNoRow;  // shallow nodes: index of a full 256-entry transition row
  };
  struct Edge {
    uint8_t byte;
    uint32_t target;
  };
  static constexpr uint32_t kNoRow = UINT32_MAX;

  // One bit per multiplicative hash of a window (a 1-hash Bloom filter).
  class Bitmap {
   public:
    void Init(size_t bits, uint32_t multiplier);  // bits: a power of two >= 64
    void Set(uint32_t window) {
      const uint32_t h = Hash(window);
      words_[h >> 6] |= uint64_t{1} << (h & 63);
    }
    bool Test(uint32_t window) const {
      const uint32_t h = Hash(window);
      return (words_[h >> 6] >> (h & 63)) & 1;
    }

   private:
    uint32_t Hash(uint32_t window) const { return (window * multiplier_) >> shift_; }
    std::vector<uint64_t> words_;
    uint32_t shift_ = 32;
    uint32_t multiplier_ = 0;
  };

  SecretMatcher() = default;
  static Result<std::shared_ptr<const SecretMatcher>> Build(std::vector<std::string_view> secrets);

  uint32_t Step(uint32_t node, uint8_t byte) const;
  uint32_t Child(const Node& node, uint8_t byte) const;  // kNoChild if absent
  bool MayStartAt(const uint8_t* p) const;               // needs 4 readable bytes at p

  std::vector<Node> nodes_;
  std::vector<Edge> edges_;
  std::vector<uint32_t> dense_;  // rows of full transitions for the root and its children
  Bitmap coarse_;                // first stage of the filter, read for every byte
  Bitmap fine_;                  // second stage, read only on first-stage hits
  uint32_t filter_mask_ = 0;     // keeps the first filter-width bytes of a little-endian load
  size_t secret_count_ = 0;
  size_t max_length_ = 0;
};

}  // namespace stagehost::log
