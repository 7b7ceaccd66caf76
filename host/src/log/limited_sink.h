// LimitedSink: caps a log at a byte budget, then drops the rest behind one notice line.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "log/byte_sink.h"
#include "util/status.h"

namespace stagehost::log {

// Forwards at most `limit_bytes` bytes downstream. The write that crosses the limit is cut, the
// notice (kNoticeFormat with the limit) is written once, and everything after is dropped and
// counted; Write keeps returning OK so the producer is never blocked or failed by the limit.
// The notice itself is not counted against the limit.
//
// The cut never splits a UTF-8 character: it backs off to the start of a multi-byte sequence
// (at most 3 bytes). To make that possible across writes, a write that ends with an incomplete
// character which would straddle the limit keeps those (at most 3) bytes until the next Write or
// Close(). Invalid UTF-8 is cut at the limit as is.
//
// Not thread-safe.
class LimitedSink : public ByteSink {
 public:
  // `downstream` must outlive the sink. `notice` replaces the default notice (the native GitLab
  // runner writes gitlab-runner's exact one).
  LimitedSink(ByteSink* downstream, uint64_t limit_bytes);
  LimitedSink(ByteSink* downstream, uint64_t limit_bytes, std::string notice);

  LimitedSink(const LimitedSink&) = delete;
  LimitedSink& operator=(const LimitedSink&) = delete;

  Status Write(std::string_view bytes) override;
  Status Flush() override { return downstream_->Flush(); }
  // Forwards a held incomplete character (the stream ended without crossing the limit), then
  // flushes downstream.
  Status Close();

  // The notice line written once the limit is reached.
  static std::string Notice(uint64_t limit_bytes);

  uint64_t limit_bytes() const { return limit_; }
  uint64_t forwarded_bytes() const { return forwarded_; }
  uint64_t dropped_bytes() const { return dropped_; }
  bool truncated() const { return truncated_; }

 private:
  Status Truncate(std::string_view bytes);

  ByteSink* downstream_;
  uint64_t limit_;
  std::string notice_;
  uint64_t forwarded_ = 0;
  uint64_t dropped_ = 0;
  bool truncated_ = false;
  std::string held_;  // <= 3 bytes: the start of a character that would straddle the limit
  std::string joined_;
};

}  // namespace stagehost::log
