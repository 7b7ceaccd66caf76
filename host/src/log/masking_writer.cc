// MaskingWriter: turns matcher hits into masked output while holding back only live partial
// matches.
#include "log/masking_writer.h"

#include <algorithm>
#include <cassert>
#include <utility>

namespace stagehost::log {

MaskingWriter::MaskingWriter(std::shared_ptr<const SecretMatcher> matcher, ByteSink* downstream)
    : matcher_(std::move(matcher)), downstream_(downstream) {}

Status MaskingWriter::Write(std::string_view bytes) {
  if (closed_) return Internal("masking writer: write after Close");
  if (bytes.empty()) return Status::Ok();
  if (matcher_ == nullptr || matcher_->empty()) {
    end_ += bytes.size();
    emitted_ = end_;
    return downstream_->Write(bytes);
  }

  held_base_ = emitted_;
  chunk_ = bytes;
  chunk_base_ = end_;
  end_ += bytes.size();
  size_t i = 0;
  while (i < bytes.size()) {
    size_t length = 0;
    i = matcher_->Scan(&state_, bytes, i, &length);
    if (length == 0) break;
    const uint64_t at = chunk_base_ + i;
    AddCovered(at - length, at);
    // Releasing at every hit keeps covered_ down to the live window.
    Release(at - matcher_->LiveLength(state_));
  }
  Release(end_ - matcher_->LiveLength(state_));
  Status status = SendPieces();

  // Keep the input bytes not yet emitted; they are at most a live partial match.
  if (emitted_ >= chunk_base_) {
    held_.assign(bytes.substr(static_cast<size_t>(emitted_ - chunk_base_)));
  } else {
    held_.erase(0, static_cast<size_t>(emitted_ - held_base_));
    held_.append(bytes);
  }
  held_base_ = emitted_;
  chunk_ = {};
  chunk_base_ = end_;
  assert(held_.size() == end_ - emitted_);
  assert(held_.size() <= matcher_->LiveLength(state_));
  if (!status.ok()) return status.WithContext("masking writer");
  return status;
}

Status MaskingWriter::Flush() { return downstream_->Flush(); }

Status MaskingWriter::Close() {
  if (closed_) return Status::Ok();
  closed_ = true;
  held_base_ = emitted_;
  chunk_ = {};
  chunk_base_ = end_;
  // A partial match that never completed is ordinary text.
  Release(end_);
  Status status = SendPieces();
  held_.clear();
  state_ = {};
  if (!status.ok()) return status.WithContext("masking writer");
  return downstream_->Flush();
}

void MaskingWriter::AddCovered(uint64_t begin, uint64_t end) {
  if (end <= emitted_) return;
  // Bytes before emitted_ were already emitted as covered (the only bytes emitted ahead of the
  // final point are covered ones), so this occurrence just extends that run.
  begin = std::max(begin, emitted_);
  while (!covered_.empty() && covered_.back().end >= begin) {
    begin = std::min(begin, covered_.back().begin);
    end = std::max(end, covered_.back().end);
    covered_.pop_back();
  }
  covered_.push_back({begin, end});
}

void MaskingWriter::Release(uint64_t final_end) {
  // An interval starting at or before final_end (or right where output stopped) can no longer
  // grow to the left, and the bytes before it are final, so its mask can go out now even where it
  // runs past final_end.
  while (!covered_.empty() && covered_.front().begin <= std::max(final_end, emitted_)) {
    const Interval iv = covered_.front();
    covered_.pop_front();
    EmitPlain(iv.begin);
    EmitCovered(iv.end);
  }
  EmitPlain(final_end);
}

void MaskingWriter::EmitPlain(uint64_t end) {
  if (end <= emitted_) return;
  // The range spans the held bytes (before chunk_base_) and the current chunk.
  if (emitted_ < chunk_base_) {
    const uint64_t stop = std::min(end, chunk_base_);
    pieces_.push_back(std::string_view(held_).substr(static_cast<size_t>(emitted_ - held_base_),
                                                     static_cast<size_t>(stop - emitted_)));
    emitted_ = stop;
  }
  if (end > emitted_) {
    std::string_view piece = chunk_.substr(static_cast<size_t>(emitted_ - chunk_base_),
                                           static_cast<size_t>(end - emitted_));
    if (!pieces_.empty() && pieces_.back().data() + pieces_.back().size() == piece.data()) {
      pieces_.back() =
          std::string_view(pieces_.back().data(), pieces_.back().size() + piece.size());
    } else {
      pieces_.push_back(piece);
    }
    emitted_ = end;
  }
}

void MaskingWriter::EmitCovered(uint64_t end) {
  if (end <= emitted_) return;
  if (run_end_ != emitted_) pieces_.push_back(kMask);
  run_end_ = end;
  emitted_ = end;
}

Status MaskingWriter::SendPieces() {
  if (pieces_.empty()) return Status::Ok();
  Status status;
  if (pieces_.size() == 1) {
    status = downstream_->Write(pieces_.front());
  } else {
    joined_.clear();
    for (std::string_view piece : pieces_) joined_.append(piece);
    status = downstream_->Write(joined_);
  }
  pieces_.clear();
  return status;
}

}  // namespace stagehost::log
