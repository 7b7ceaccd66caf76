// Stage log routing: per-stream maskers in front of a shared cap.
#include "job/stage_log.h"

#include <string>

namespace stagehost {

StageLog::StageLog(std::shared_ptr<const log::SecretMatcher> secrets, log::ByteSink* log_out,
                   uint64_t log_limit, log::ByteSink* messages_out)
    : secrets_(secrets), limited_(log_out, log_limit), messages_(secrets, messages_out) {}

void StageLog::Write(uint32_t stream, std::string_view bytes) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  std::unique_ptr<log::MaskingWriter>& writer = streams_[stream];
  if (!writer) writer = std::make_unique<log::MaskingWriter>(secrets_, &limited_);
  // A failing stdout (closed pipe) must not stop the stage; the cap notice is best effort too.
  (void)writer->Write(bytes);
}

void StageLog::Message(std::string_view message) {
  // Every line carries the prefix, so a reader can tell stagehost's lines from anything else on
  // stderr even for multi-line messages (one config problem per line, say).
  std::string text;
  while (true) {
    size_t newline = message.find('\n');
    text += "stagehost: ";
    text.append(message.substr(0, newline));
    text.push_back('\n');
    if (newline == std::string_view::npos) break;
    message.remove_prefix(newline + 1);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  (void)messages_.Write(text);
  // Messages are rare and must show up before the process exits or hangs.
  (void)messages_.Flush();
}

void StageLog::Close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  for (auto& [stream, writer] : streams_) (void)writer->Close();
  (void)messages_.Close();
  (void)limited_.Flush();
}

uint64_t StageLog::dropped_bytes() const { return limited_.dropped_bytes(); }

}  // namespace stagehost
