// Frame encoding over a real socketpair and incremental decoding of arbitrary splits.
#include "plugin/worker_protocol.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <thread>

namespace stagehost {
namespace {

TEST(WorkerProtocol, FramesSurviveASocketpair) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::string big(300000, 'x');
  ASSERT_TRUE(WriteFrame(fds[0], FrameType::kResult, R"({"status":0})").ok());
  ASSERT_TRUE(WriteFrame(fds[0], FrameType::kCancel, "").ok());
  std::thread writer([&] { ASSERT_TRUE(WriteFrame(fds[0], FrameType::kLog, big).ok()); });
  Result<Frame> first = ReadFrame(fds[1]);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->type, FrameType::kResult);
  EXPECT_EQ(first->payload, R"({"status":0})");
  Result<Frame> second = ReadFrame(fds[1]);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->type, FrameType::kCancel);
  EXPECT_TRUE(second->payload.empty());
  Result<Frame> third = ReadFrame(fds[1]);
  writer.join();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->payload, big);
  ::close(fds[0]);
  Result<Frame> eof = ReadFrame(fds[1]);
  EXPECT_FALSE(eof.ok());
  EXPECT_EQ(eof.status().code(), StatusCode::kUnavailable);
  ::close(fds[1]);
}

TEST(WorkerProtocol, DecoderHandlesEverySplit) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
  std::vector<std::string> payloads = {"", "a", std::string(70000, 'b'), "tail"};
  for (const std::string& p : payloads) ASSERT_TRUE(WriteFrame(fds[0], FrameType::kLog, p).ok());
  ::close(fds[0]);
  std::string wire;
  char buffer[8192];
  for (ssize_t n; (n = ::read(fds[1], buffer, sizeof(buffer))) > 0;) wire.append(buffer, n);
  ::close(fds[1]);

  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    FrameDecoder decoder;
    std::vector<std::string> seen;
    size_t offset = 0;
    while (offset < wire.size()) {
      size_t n = std::min<size_t>(wire.size() - offset, rng() % 9000);
      decoder.Append(std::string_view(wire).substr(offset, n));
      offset += n;
      while (std::optional<Frame> frame = decoder.Next()) seen.push_back(frame->payload);
    }
    ASSERT_FALSE(decoder.error());
    ASSERT_EQ(seen, payloads) << "round " << round;
    EXPECT_EQ(decoder.buffered(), 0u);
  }
}

TEST(WorkerProtocol, OversizedHeaderIsAnError) {
  FrameDecoder decoder;
  uint32_t header[2] = {static_cast<uint32_t>(FrameType::kLog), 0xFFFFFFFFu};
  decoder.Append(std::string_view(reinterpret_cast<const char*>(header), sizeof(header)));
  EXPECT_FALSE(decoder.Next().has_value());
  EXPECT_TRUE(decoder.error());
}

}  // namespace
}  // namespace stagehost
