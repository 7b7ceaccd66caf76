// FdSink: the write(2) loop behind log sinks that end in a file descriptor.
#include "log/byte_sink.h"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace stagehost::log {

Status FdSink::Write(std::string_view bytes) {
  const char* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n > 0) {
      p += n;
      left -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // A non-blocking pipe is full: waiting keeps the "no short writes" contract.
      pollfd pfd{fd_, POLLOUT, 0};
      if (::poll(&pfd, 1, -1) < 0 && errno != EINTR) {
        return ErrnoStatus("poll on fd " + std::to_string(fd_), errno);
      }
      continue;
    }
    if (n == 0) return Internal("write to fd " + std::to_string(fd_) + " made no progress");
    return ErrnoStatus("write to fd " + std::to_string(fd_), errno);
  }
  return Status::Ok();
}

}  // namespace stagehost::log
