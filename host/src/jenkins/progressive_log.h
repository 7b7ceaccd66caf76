// Turns Jenkins `progressiveText` answers into the console as written: CRLF restored to LF, console
// notes stripped even when split across polls, offsets taken from X-Text-Size only.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace stagehost::jenkins {

// A streaming filter over console bytes. Jenkins rewrites every LF as CRLF in the body and embeds
// annotations `ESC[8mha:<base64>ESC[0m` in the raw log (jenkins-api.md §7.1); both can straddle
// the end of one answer and the start of the next, so partial markers are held back until the next
// Feed() decides what they were.
class ConsoleFilter {
 public:
  // Returns the bytes that are final now.
  std::string Feed(std::string_view bytes);
  // End of the log: releases what was held back (a partial marker at the very end is plain text;
  // an unterminated note is dropped).
  std::string Finish();

 private:
  std::string StripNotes(std::string_view bytes);
  bool pending_cr_ = false;
  bool in_note_ = false;
  std::string carry_;  // a possible start of a note marker (outside) or end marker (inside)
};

// One answer of GET .../logText/progressiveText?start=K.
struct TextChunk {
  std::uint64_t start = 0;                 // the `start` we sent
  std::optional<std::uint64_t> text_size;  // X-Text-Size
  bool more_data = false;                  // X-More-Data: true
  std::string body;                        // decoded (curl handles gzip)
};

// Offset bookkeeping of a log follower plus the record of what was emitted, so the final text can
// be checked against `consoleText` without keeping the log in memory.
class ProgressiveLog {
 public:
  struct Step {
    std::string output;      // bytes to write now
    bool complete = false;   // the server says the log is complete
    bool regressed = false;  // the answer went backwards and was ignored
  };

  // The `start` for the next request: never above the last X-Text-Size accepted (stapler resends
  // the whole log from 0 for a start beyond the end).
  std::uint64_t next_start() const { return offset_; }
  Step Accept(const TextChunk& chunk);
  // Flushes the filter at the end of the log.
  std::string Finish();

  // After Finish(): given the whole `consoleText`, returns what the stream missed at its end
  // (e.g. a trailing line skipped by a server whose X-Text-Size ran ahead of its body), or
  // nullopt when the stream is not a prefix of it.
  std::optional<std::string> MissingTail(std::string_view console_text) const;
  std::uint64_t emitted_bytes() const { return emitted_; }
  std::uint64_t emitted_hash() const { return hash_; }

 private:
  void Record(std::string_view out);
  std::uint64_t offset_ = 0;
  ConsoleFilter filter_;
  std::uint64_t emitted_ = 0;
  std::uint64_t hash_ = 14695981039346656037ull;  // FNV-1a of everything emitted
};

// FNV-1a, continued from `hash`.
std::uint64_t Fnv1a(std::uint64_t hash, std::string_view bytes);

// ProgressiveLog::MissingTail over a `consoleText` that arrives in pieces: memory holds a hash of
// the part already emitted and the text past it (normally a partial last line), never the log.
class ConsoleTailCheck {
 public:
  explicit ConsoleTailCheck(const ProgressiveLog& log)
      : emitted_(log.emitted_bytes()), expected_hash_(log.emitted_hash()) {}

  void Feed(std::string_view raw) { Take(filter_.Feed(raw)); }
  // The missing tail, or nullopt when what was emitted is not a prefix of the console.
  std::optional<std::string> Finish();

 private:
  void Take(std::string_view text);
  std::uint64_t emitted_;
  std::uint64_t expected_hash_;
  ConsoleFilter filter_;
  std::uint64_t seen_ = 0;
  std::uint64_t hash_ = 14695981039346656037ull;
  std::string tail_;
  bool diverged_ = false;  // the emitted prefix did not match: the rest is not kept
};

}  // namespace stagehost::jenkins
