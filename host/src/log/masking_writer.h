// MaskingWriter: replaces every occurrence of a secret in one log stream with "[MASKED]".
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "log/byte_sink.h"
#include "log/secret_matcher.h"
#include "util/status.h"

namespace stagehost::log {

// A filter for one stream (one per stdout/stderr of a step, so interleaving cannot break a
// match). Every byte covered by an occurrence of any secret is replaced; a maximal run of covered
// bytes -- overlapping or adjacent occurrences -- becomes a single kMask. The output depends only
// on the concatenated input, never on how it was split into writes.
//
// Bytes are held back only while they are part of a live partial match (at most the longest
// secret); everything else is forwarded downstream in one Write per call. With no secrets the
// writer forwards each Write unchanged.
//
// Flush() does not release held bytes: the next write could still complete the secret. Close()
// ends the stream and writes them as plain text, since a partial match at the end of a stream is
// not a secret. Call Close() before destroying the writer; the destructor does not write.
//
// Not thread-safe. The matcher may be shared with other writers.
class MaskingWriter : public ByteSink {
 public:
  static constexpr std::string_view kMask = "[MASKED]";

  // `downstream` must outlive the writer.
  MaskingWriter(std::shared_ptr<const SecretMatcher> matcher, ByteSink* downstream);

  MaskingWriter(const MaskingWriter&) = delete;
  MaskingWriter& operator=(const MaskingWriter&) = delete;

  // Forwards the masked form of every byte whose fate is known. After a downstream error the
  // bytes of this call are lost but the writer stays consistent for later writes.
  // Fails with kInternal after Close().
  Status Write(std::string_view bytes) override;
  // Flushes downstream; held bytes stay held.
  Status Flush() override;
  // Writes the held bytes (a partial match that never completed) as they are, then flushes
  // downstream. Later calls return OK and do nothing.
  Status Close();

  // Input bytes received but not yet reflected downstream.
  size_t held_bytes() const { return static_cast<size_t>(end_ - emitted_); }
  bool closed() const { return closed_; }

 private:
  // Stream positions [begin, end) known to be covered by occurrences, not yet emitted.
  struct Interval {
    uint64_t begin;
    uint64_t end;
  };

  void AddCovered(uint64_t begin, uint64_t end);
  // Emits everything before `final_end` (no later occurrence can reach before it) and any
  // covered interval that starts there or earlier.
  void Release(uint64_t final_end);
  void EmitPlain(uint64_t end);
  void EmitCovered(uint64_t end);
  Status SendPieces();

  std::shared_ptr<const SecretMatcher> matcher_;
  ByteSink* downstream_;
  SecretMatcher::State state_;
  uint64_t end_ = 0;                      // bytes received
  uint64_t emitted_ = 0;                  // bytes whose output has been produced
  uint64_t run_end_ = UINT64_MAX;         // end of the last covered run emitted
  std::deque<Interval> covered_;          // disjoint, not adjacent, ascending
  std::string held_;                      // input bytes [emitted_, end_) between writes
  uint64_t held_base_ = 0;                // stream position of held_[0] during a write
  std::string_view chunk_;                // the input of the current Write
  uint64_t chunk_base_ = 0;               // stream position of chunk_[0]
  std::vector<std::string_view> pieces_;  // output of the current call, sent as one Write
  std::string joined_;
  bool closed_ = false;
};

}  // namespace stagehost::log
