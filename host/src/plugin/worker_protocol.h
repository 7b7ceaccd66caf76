// The framed protocol between the host and a worker process over a socketpair.
//
// A frame is an 8-byte header (uint32 type, uint32 payload length, host byte order: both ends are
// the same binary on the same machine) followed by the payload: raw bytes for LOG, JSON for the
// rest. The protocol has its own version, separate from the plugin ABI; HELLO carries it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/status.h"

namespace stagehost {

inline constexpr uint32_t kWorkerProtocolVersion = 1;
inline constexpr size_t kMaxFramePayload = 16u << 20;
// Plugin log writes are split into frames of at most this many bytes.
inline constexpr size_t kLogFrameChunk = 64u << 10;

enum class FrameType : uint32_t {
  kHello = 1,          // worker -> host {protocol, pid}
  kDescribed = 2,      // worker -> host {ok, info | error}: the plugin is loaded and checked
  kRun = 3,            // host -> worker RunRequest
  kQuit = 4,           // host -> worker: exit without running
  kLog = 5,            // worker -> host: [stream u8][level u8] bytes
  kArtifact = 6,       // worker -> host {id, rel_path, name, media_type}
  kArtifactReply = 7,  // host -> worker {id, ok, message}
  kProgress = 8,       // worker -> host {permille, message}
  kOutput = 9,         // worker -> host {key, json}
  kResult = 10,        // worker -> host {status, message, phase}
  kCancel = 11,        // host -> worker: set the flag, call request_cancel
};

struct Frame {
  FrameType type;
  std::string payload;
};

// Writes one whole frame (blocking; MSG_NOSIGNAL so a dead peer is an error, not SIGPIPE).
Status WriteFrame(int fd, FrameType type, std::string_view payload);
// Reads one whole frame (blocking). kUnavailable on end of stream.
Result<Frame> ReadFrame(int fd);

// Incremental decoder for a non-blocking reader.
class FrameDecoder {
 public:
  void Append(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, if any. A malformed header sets error().
  std::optional<Frame> Next();
  bool error() const { return error_; }
  size_t buffered() const { return buffer_.size() - offset_; }

 private:
  std::string buffer_;
  size_t offset_ = 0;
  bool error_ = false;
};

}  // namespace stagehost
