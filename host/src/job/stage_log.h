// StageLog: where a stage's bytes and stagehost's own messages go, masked before anything else.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>

#include "log/byte_sink.h"
#include "log/limited_sink.h"
#include "log/masking_writer.h"
#include "log/secret_matcher.h"

namespace stagehost {

// Every stream (the plugin's log streams and the worker's raw output) has its own masker, so
// interleaved writes cannot split a secret between streams; all of them share one size cap.
// Host messages are masked too: a plugin's error message may quote a secret. Thread-safe.
class StageLog {
 public:
  StageLog(std::shared_ptr<const log::SecretMatcher> secrets, log::ByteSink* log_out,
           uint64_t log_limit, log::ByteSink* messages_out);

  void Write(uint32_t stream, std::string_view bytes);
  // Writes the message to the messages sink, each line as "stagehost: <line>\n".
  void Message(std::string_view message);
  // Flushes bytes held back by the maskers (a partial match at the end is not a secret).
  void Close();
  uint64_t dropped_bytes() const;

 private:
  std::mutex mutex_;
  std::shared_ptr<const log::SecretMatcher> secrets_;
  log::LimitedSink limited_;
  std::map<uint32_t, std::unique_ptr<log::MaskingWriter>> streams_;
  log::MaskingWriter messages_;
  bool closed_ = false;
};

}  // namespace stagehost
