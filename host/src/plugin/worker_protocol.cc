// Frame encoding and decoding for the worker channel.
#include "plugin/worker_protocol.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stagehost {
namespace {

struct Header {
  uint32_t type;
  uint32_t length;
};

Status SendAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("worker channel write", errno);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

Status ReadAll(int fd, char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::read(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("worker channel read", errno);
    }
    if (n == 0) return Unavailable("worker channel closed");
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFrame(int fd, FrameType type, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) return Internal("worker frame too large");
  Header header{static_cast<uint32_t>(type), static_cast<uint32_t>(payload.size())};
  // One buffer, one send: frames from several plugin threads are serialised by the caller, and a
  // single write keeps small frames cheap.
  std::string buffer(sizeof(header) + payload.size(), '\0');
  std::memcpy(buffer.data(), &header, sizeof(header));
  if (!payload.empty()) std::memcpy(buffer.data() + sizeof(header), payload.data(), payload.size());
  return SendAll(fd, buffer.data(), buffer.size());
}

Result<Frame> ReadFrame(int fd) {
  Header header;
  STAGEHOST_RETURN_IF_ERROR(ReadAll(fd, reinterpret_cast<char*>(&header), sizeof(header)));
  if (header.length > kMaxFramePayload) return Internal("worker frame too large");
  Frame frame{static_cast<FrameType>(header.type), std::string(header.length, '\0')};
  STAGEHOST_RETURN_IF_ERROR(ReadAll(fd, frame.payload.data(), header.length));
  return frame;
}

std::optional<Frame> FrameDecoder::Next() {
  if (error_ || buffered() < sizeof(Header)) return std::nullopt;
  Header header;
  std::memcpy(&header, buffer_.data() + offset_, sizeof(header));
  if (header.length > kMaxFramePayload) {
    error_ = true;
    return std::nullopt;
  }
  if (buffered() < sizeof(Header) + header.length) return std::nullopt;
  Frame frame{static_cast<FrameType>(header.type),
              buffer_.substr(offset_ + sizeof(Header), header.length)};
  offset_ += sizeof(Header) + header.length;
  // Compact once the consumed prefix dominates, so the buffer stays bounded by one frame or so.
  if (offset_ > (1u << 20) || offset_ * 2 > buffer_.size()) {
    buffer_.erase(0, offset_);
    offset_ = 0;
  }
  return frame;
}

}  // namespace stagehost
