// RunChild: merged output in order, exit codes, limits, and cancel escalation to the group.
#include "util/child_process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "testutil/stagehost_cli.h"

namespace stagehost {
namespace {

std::vector<std::string> Env() { return {"PATH=/usr/bin:/bin"}; }

TEST(ChildProcess, OutputOfBothStreamsInOrderAndExitCode) {
  std::string out;
  ChildOptions options{
      {"bash", "-c", "echo one; echo two >&2; echo three; exit 7"}, Env(), "/", {}};
  Result<ChildExit> exit = RunChild(
      options, [&](std::string_view b) { out += b; }, -1, std::chrono::milliseconds(100));
  ASSERT_TRUE(exit.ok()) << exit.status().ToString();
  EXPECT_EQ(out, "one\ntwo\nthree\n");
  EXPECT_EQ(ShellExitCode(exit->wait_status), 7);
  EXPECT_FALSE(exit->stopped);
}

TEST(ChildProcess, LimitsApply) {
  std::string out;
  ChildLimits limits;
  limits.open_files = 77;
  ChildOptions options{{"bash", "-c", "ulimit -n; ulimit -c"}, Env(), "", limits};
  Result<ChildExit> exit = RunChild(
      options, [&](std::string_view b) { out += b; }, -1, std::chrono::milliseconds(100));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(out, "77\n0\n");
}

TEST(ChildProcess, CancelEscalatesToSigkillOfTheWholeGroup) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::string out;
  // Ignores SIGTERM and has a child of its own in the group.
  ChildOptions options{{"bash", "-c", "trap '' TERM; sleep 100 & echo $!; wait"}, Env(), "", {}};
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    (void)!::write(fds[1], "x", 1);
  });
  auto started = std::chrono::steady_clock::now();
  Result<ChildExit> exit = RunChild(
      options, [&](std::string_view b) { out += b; }, fds[0], std::chrono::milliseconds(300));
  canceller.join();
  ASSERT_TRUE(exit.ok());
  EXPECT_TRUE(exit->stopped);
  EXPECT_TRUE(WIFSIGNALED(exit->wait_status));
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(3));
  pid_t grandchild = static_cast<pid_t>(std::stol(out));
  // ProcessGone counts a zombie as dead: the orphan is reaped by init, which may be slow to.
  EXPECT_TRUE(testutil::ProcessGone(grandchild, std::chrono::milliseconds(2000)))
      << "grandchild " << grandchild << " survived";
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST(ChildProcess, MissingProgramExits127) {
  ChildOptions options{{"/nonexistent/program"}, Env(), "", {}};
  Result<ChildExit> exit = RunChild(
      options, [](std::string_view) {}, -1, std::chrono::milliseconds(100));
  ASSERT_TRUE(exit.ok());
  EXPECT_EQ(ShellExitCode(exit->wait_status), 127);
}

}  // namespace
}  // namespace stagehost
