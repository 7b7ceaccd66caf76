// LimitedSink: byte budget, UTF-8-safe cut and the truncation notice.
#include "log/limited_sink.h"

#include <algorithm>
#include <utility>

namespace stagehost::log {
namespace {

bool IsContinuation(unsigned char b) { return (b & 0xC0) == 0x80; }

// Length of the sequence a lead byte announces; 0 for ASCII, continuation and invalid bytes.
size_t SequenceLength(unsigned char b) {
  if (b >= 0xC0 && b <= 0xDF) return 2;
  if (b >= 0xE0 && b <= 0xEF) return 3;
  if (b >= 0xF0 && b <= 0xF7) return 4;
  return 0;
}

// Start of the multi-byte character that `data[pos]` continues, when that character begins at
// most 3 bytes earlier and is longer than pos - start; otherwise `pos` (nothing to back off).
size_t CharacterStart(std::string_view data, size_t pos) {
  if (pos >= data.size() || !IsContinuation(data[pos])) return pos;
  const size_t lowest = pos >= 3 ? pos - 3 : 0;
  for (size_t j = pos; j-- > lowest;) {
    const auto b = static_cast<unsigned char>(data[j]);
    if (IsContinuation(b)) continue;
    return SequenceLength(b) > pos - j ? j : pos;
  }
  return pos;
}

}  // namespace

LimitedSink::LimitedSink(ByteSink* downstream, uint64_t limit_bytes)
    : LimitedSink(downstream, limit_bytes, Notice(limit_bytes)) {}

LimitedSink::LimitedSink(ByteSink* downstream, uint64_t limit_bytes, std::string notice)
    : downstream_(downstream), limit_(limit_bytes), notice_(std::move(notice)) {}

std::string LimitedSink::Notice(uint64_t limit_bytes) {
  return "\n[stagehost] log truncated: the output exceeded " + std::to_string(limit_bytes) +
         " bytes; further output is dropped\n";
}

Status LimitedSink::Write(std::string_view bytes) {
  if (truncated_) {
    dropped_ += bytes.size();
    return Status::Ok();
  }
  if (bytes.empty()) return Status::Ok();
  std::string_view data = bytes;
  if (!held_.empty()) {
    joined_ = held_;
    joined_.append(bytes);
    held_.clear();
    data = joined_;
  }
  const uint64_t room = limit_ - forwarded_;
  if (data.size() > room) return Truncate(data);

  // Everything fits. If the write ends inside a character that, once complete, would cross
  // the limit, keep its start: the cut will have to fall before it, and it cannot be unsent.
  size_t send = data.size();
  const size_t tail_start = CharacterStart(data, data.size() - 1);
  const auto lead = static_cast<unsigned char>(data[tail_start]);
  const size_t needed = SequenceLength(lead);
  if (needed > data.size() - tail_start && forwarded_ + tail_start + needed > limit_) {
    send = tail_start;
  }
  held_.assign(data.substr(send));
  if (send == 0) return Status::Ok();
  forwarded_ += send;
  return downstream_->Write(data.substr(0, send));
}

Status LimitedSink::Truncate(std::string_view data) {
  const size_t cut = CharacterStart(data, static_cast<size_t>(limit_ - forwarded_));
  truncated_ = true;
  forwarded_ += cut;
  dropped_ += data.size() - cut;
  if (cut > 0) STAGEHOST_RETURN_IF_ERROR(downstream_->Write(data.substr(0, cut)));
  return downstream_->Write(notice_);
}

Status LimitedSink::Close() {
  if (!held_.empty()) {
    // The stream ended inside the budget with an incomplete character: pass it on as it is.
    forwarded_ += held_.size();
    Status status = downstream_->Write(held_);
    held_.clear();
    STAGEHOST_RETURN_IF_ERROR(status);
  }
  return downstream_->Flush();
}

}  // namespace stagehost::log
