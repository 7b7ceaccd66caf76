// ConsoleFilter and ProgressiveLog: the R15 rules of reliability.md for Jenkins log mirrors.
#include "jenkins/progressive_log.h"

namespace stagehost::jenkins {
namespace {

constexpr std::string_view kNoteStart = "\x1b[8mha:";
constexpr std::string_view kNoteEnd = "\x1b[0m";

// Length of the longest suffix of `text` that is a proper prefix of `marker`.
size_t PartialMarkerAtEnd(std::string_view text, std::string_view marker) {
  size_t longest = std::min(text.size(), marker.size() - 1);
  for (size_t n = longest; n > 0; --n) {
    if (text.substr(text.size() - n) == marker.substr(0, n)) return n;
  }
  return 0;
}

}  // namespace

std::string ConsoleFilter::Feed(std::string_view bytes) {
  // CRLF -> LF first; a CR at the very end waits for the next byte.
  std::string lf;
  lf.reserve(bytes.size() + 1);
  if (pending_cr_) {
    pending_cr_ = false;
    if (bytes.empty()) {
      pending_cr_ = true;
      return {};
    }
    if (bytes.front() != '\n') lf.push_back('\r');
  }
  for (size_t i = 0; i < bytes.size(); ++i) {
    char c = bytes[i];
    if (c == '\r') {
      if (i + 1 == bytes.size()) {
        pending_cr_ = true;
        break;
      }
      if (bytes[i + 1] == '\n') continue;
    }
    lf.push_back(c);
  }
  return StripNotes(lf);
}

std::string ConsoleFilter::StripNotes(std::string_view input) {
  std::string data = carry_;
  data.append(input);
  carry_.clear();
  std::string out;
  out.reserve(data.size());
  std::string_view rest(data);
  while (!rest.empty()) {
    if (in_note_) {
      size_t end = rest.find(kNoteEnd);
      if (end == std::string_view::npos) {
        size_t keep = PartialMarkerAtEnd(rest, kNoteEnd);
        carry_.assign(rest.substr(rest.size() - keep));
        return out;
      }
      rest.remove_prefix(end + kNoteEnd.size());
      in_note_ = false;
      continue;
    }
    size_t start = rest.find(kNoteStart);
    if (start == std::string_view::npos) {
      size_t keep = PartialMarkerAtEnd(rest, kNoteStart);
      out.append(rest.substr(0, rest.size() - keep));
      carry_.assign(rest.substr(rest.size() - keep));
      return out;
    }
    out.append(rest.substr(0, start));
    rest.remove_prefix(start + kNoteStart.size());
    in_note_ = true;
  }
  return out;
}

std::string ConsoleFilter::Finish() {
  std::string out;
  if (!in_note_) out = carry_;
  if (pending_cr_) out.push_back('\r');
  carry_.clear();
  pending_cr_ = false;
  in_note_ = false;
  return out;
}

std::uint64_t Fnv1a(std::uint64_t hash, std::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

void ProgressiveLog::Record(std::string_view out) {
  emitted_ += out.size();
  hash_ = Fnv1a(hash_, out);
}

ProgressiveLog::Step ProgressiveLog::Accept(const TextChunk& chunk) {
  Step step;
  step.complete = !chunk.more_data;
  // Without X-Text-Size we cannot place the body in the log: print nothing, ask again from the
  // same offset (the body's length says nothing about raw offsets).
  if (!chunk.text_size.has_value()) {
    step.regressed = true;
    step.complete = false;
    return step;
  }
  if (*chunk.text_size < chunk.start) {
    // The server treated our start as beyond its end and resent from 0 (a replica behind, a
    // rotated log): everything here was printed already.
    step.regressed = true;
    return step;
  }
  offset_ = *chunk.text_size;
  step.output = filter_.Feed(chunk.body);
  Record(step.output);
  return step;
}

std::string ProgressiveLog::Finish() {
  std::string out = filter_.Finish();
  Record(out);
  return out;
}

std::optional<std::string> ProgressiveLog::MissingTail(std::string_view console_text) const {
  ConsoleTailCheck check(*this);
  check.Feed(console_text);
  return check.Finish();
}

void ConsoleTailCheck::Take(std::string_view text) {
  if (seen_ < emitted_) {
    size_t prefix = static_cast<size_t>(std::min<std::uint64_t>(emitted_ - seen_, text.size()));
    hash_ = Fnv1a(hash_, text.substr(0, prefix));
    seen_ += prefix;
    text.remove_prefix(prefix);
    if (seen_ == emitted_ && hash_ != expected_hash_) diverged_ = true;
  }
  if (!diverged_) tail_.append(text);
}

std::optional<std::string> ConsoleTailCheck::Finish() {
  Take(filter_.Finish());
  if (seen_ < emitted_ || diverged_ || hash_ != expected_hash_) return std::nullopt;
  return std::move(tail_);
}

}  // namespace stagehost::jenkins
