// ByteSink: where a log stream's bytes go next (a file descriptor, a string, another filter).
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "util/status.h"

namespace stagehost::log {

// A destination for a stream of bytes. Filters (masking, limiting) are sinks that forward to
// another sink, so a log pipeline is a chain of them. Not thread-safe unless a subclass says so.
class ByteSink {
 public:
  virtual ~ByteSink() = default;

  // Accepts all of `bytes` or returns an error; there are no short writes.
  virtual Status Write(std::string_view bytes) = 0;
  // Pushes anything buffered in this sink (and the sinks after it) onward.
  virtual Status Flush() { return Status::Ok(); }
};

// Writes everything to a file descriptor it does not own. Retries partial writes and EINTR,
// and waits for writability when the descriptor is non-blocking.
class FdSink : public ByteSink {
 public:
  explicit FdSink(int fd) : fd_(fd) {}

  Status Write(std::string_view bytes) override;

  int fd() const { return fd_; }

 private:
  int fd_;
};

// Appends to a string it owns; for tests and for buffering a small stream in memory.
class StringSink : public ByteSink {
 public:
  Status Write(std::string_view bytes) override {
    data_.append(bytes);
    return Status::Ok();
  }

  const std::string& data() const { return data_; }
  // Returns the bytes written so far and empties the sink.
  std::string Take() { return std::exchange(data_, std::string()); }

 private:
  std::string data_;
};

}  // namespace stagehost::log
