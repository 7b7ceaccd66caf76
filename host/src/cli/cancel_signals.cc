// Self-pipe signal handling for cancel.
#include "cli/cancel_signals.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace stagehost::cli {
namespace {

int g_write_fd = -1;
std::atomic<bool> g_cancel_requested{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void OnSignal(int) {
  int saved = errno;
  g_cancel_requested.store(true, std::memory_order_relaxed);
  (void)!::write(g_write_fd, "c", 1);
  errno = saved;
}

}  // namespace

int InstallCancelSignals() {
  static int read_fd = -1;
  if (read_fd >= 0) return read_fd;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  read_fd = fds[0];
  g_write_fd = fds[1];
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return read_fd;
}

std::atomic<bool>& CancelRequested() { return g_cancel_requested; }

}  // namespace stagehost::cli
