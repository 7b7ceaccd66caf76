// LineTimestamper: a stamp at each line start, the seconds part formatted once per second.
#include "log/line_timestamper.h"

#include <cstring>
#include <ctime>

namespace stagehost::log {

LineTimestamper::LineTimestamper(ByteSink* downstream, Clock clock)
    : downstream_(downstream), clock_(std::move(clock)) {
  if (!clock_) clock_ = [] { return std::chrono::system_clock::now(); };
}

void LineTimestamper::AppendHeader() {
  auto now = clock_();
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  int64_t second = micros / 1'000'000;
  int64_t fraction = micros % 1'000'000;
  if (second != cached_second_) {
    time_t t = static_cast<time_t>(second);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(cached_prefix_, sizeof(cached_prefix_), "%Y-%m-%dT%H:%M:%S", &tm);
    cached_second_ = second;
  }
  char header[kHeaderSize + 1];
  std::memcpy(header, cached_prefix_, 19);
  header[19] = '.';
  for (int i = 25; i >= 20; --i) {
    header[i] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  std::memcpy(header + 26, "Z 00O ", 6);
  out_.append(header, kHeaderSize);
}

Status LineTimestamper::Write(std::string_view bytes) {
  out_.clear();
  size_t i = 0;
  while (i < bytes.size()) {
    if (at_line_start_) {
      AppendHeader();
      at_line_start_ = false;
    }
    const void* newline = std::memchr(bytes.data() + i, '\n', bytes.size() - i);
    size_t end = newline == nullptr
                     ? bytes.size()
                     : static_cast<size_t>(static_cast<const char*>(newline) - bytes.data()) + 1;
    out_.append(bytes.substr(i, end - i));
    if (newline != nullptr) at_line_start_ = true;
    i = end;
  }
  if (out_.empty()) return Status::Ok();
  return downstream_->Write(out_);
}

}  // namespace stagehost::log
