// ByteSink tests: StringSink, and FdSink against pipes that accept only part of a write.
#include "log/byte_sink.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "util/unique_fd.h"

namespace stagehost::log {
namespace {

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe MakePipe(int flags) {
  int fds[2];
  EXPECT_EQ(::pipe2(fds, O_CLOEXEC | flags), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads the pipe to EOF in small, slow bites so the writer meets a full pipe.
std::string DrainSlowly(int fd) {
  std::string out;
  char buf[1000];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() % 64 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return out;
}

std::string Pattern(size_t size) {
  std::string data(size, ' ');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>('a' + (i * 7) % 26);
  return data;
}

TEST(ByteSinkTest, StringSinkAppendsAndTakes) {
  StringSink sink;
  ASSERT_TRUE(sink.Write("ab").ok());
  ASSERT_TRUE(sink.Write("").ok());
  ASSERT_TRUE(sink.Write("cd").ok());
  ASSERT_TRUE(sink.Flush().ok());
  EXPECT_EQ(sink.data(), "abcd");
  EXPECT_EQ(sink.Take(), "abcd");
  EXPECT_EQ(sink.data(), "");
}

TEST(ByteSinkTest, FdSinkWritesAllOfALargeBufferToANonBlockingPipe) {
  Pipe p = MakePipe(O_NONBLOCK);
  const std::string data = Pattern(4 << 20);
  std::string received;
  std::thread reader([&] {
    // The reader wants a blocking descriptor; only the writer's end is non-blocking.
    ::fcntl(p.read_end.get(), F_SETFL, 0);
    received = DrainSlowly(p.read_end.get());
  });
  FdSink sink(p.write_end.get());
  Status status = sink.Write(data);
  p.write_end.Reset();
  reader.join();
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data);
}

void IgnoreSignal(int) {}

TEST(ByteSinkTest, FdSinkRetriesWhenSignalsInterruptWrites) {
  // A handler without SA_RESTART makes a blocked write(2) return early (EINTR or short count).
  struct sigaction action = {}, old = {};
  action.sa_handler = IgnoreSignal;
  sigemptyset(&action.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR2, &action, &old), 0);

  Pipe p = MakePipe(0);
  const std::string data = Pattern(4 << 20);
  std::string received;
  std::thread reader([&] { received = DrainSlowly(p.read_end.get()); });
  std::atomic<bool> done = false;
  const pthread_t writer_thread = ::pthread_self();
  std::thread interrupter([&] {
    while (!done) {
      ::pthread_kill(writer_thread, SIGUSR2);
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  FdSink sink(p.write_end.get());
  Status status = sink.Write(data);
  done = true;
  interrupter.join();
  p.write_end.Reset();
  reader.join();
  ::sigaction(SIGUSR2, &old, nullptr);
  ASSERT_TRUE(status.ok()) << status.ToString();
  EXPECT_TRUE(received == data);
}

TEST(ByteSinkTest, FdSinkReportsErrors) {
  FdSink closed(-1);
  Status status = closed.Write("x");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("fd -1"), std::string::npos);

  Pipe p = MakePipe(0);
  p.read_end.Reset();
  struct sigaction ignore = {}, old = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ignore, &old), 0);
  FdSink broken(p.write_end.get());
  EXPECT_FALSE(broken.Write("x").ok());
  ::sigaction(SIGPIPE, &old, nullptr);
}

TEST(ByteSinkTest, FdSinkEmptyWriteIsANoOp) {
  FdSink sink(-1);
  EXPECT_TRUE(sink.Write("").ok());
}

}  // namespace
}  // namespace stagehost::log
