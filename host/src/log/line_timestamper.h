// LineTimestamper: prefixes every log line with gitlab-runner's 32-byte timestamp header.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "log/byte_sink.h"
#include "util/status.h"

namespace stagehost::log {

// Each line starts with `YYYY-MM-DDTHH:MM:SS.ffffffZ 00O ` (UTC, microseconds, stream id, `O`
// for output, a space for a line start), the format GitLab renders as per-line times. The stamp
// is written when a line's first byte arrives, so a line never waits for its end to be shown and
// a stamp can never land inside an escape sequence (those contain no newline).
// Not thread-safe.
class LineTimestamper : public ByteSink {
 public:
  static constexpr size_t kHeaderSize = 32;
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  // `downstream` must outlive the timestamper; `clock` defaults to the system clock.
  explicit LineTimestamper(ByteSink* downstream, Clock clock = {});

  Status Write(std::string_view bytes) override;
  Status Flush() override { return downstream_->Flush(); }

 private:
  void AppendHeader();

  ByteSink* downstream_;
  Clock clock_;
  bool at_line_start_ = true;
  int64_t cached_second_ = -1;
  char cached_prefix_[20] = {};  // "YYYY-MM-DDTHH:MM:SS" of cached_second_
  std::string out_;
};

}  // namespace stagehost::log
