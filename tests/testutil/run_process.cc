#include "testutil/run_process.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <set>

extern char** environ;

namespace stagehost::testutil {
namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(const std::string& what, int error) {
  return what + ": " + std::strerror(error);
}

// Closes the fds it owns on scope exit.
struct Fds {
  std::vector<int> fds;
  ~Fds() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
};

bool MakePipe(int fds[2]) { return pipe2(fds, O_CLOEXEC) == 0; }

// Reads what is available from `fd` into `out`. Returns false at EOF or on a hard error.
bool Drain(int fd, std::string& out) {
  char buffer[65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n > 0) {
      out.append(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) return false;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;
  }
}

std::vector<std::string> BuildEnvironment(const ProcessOptions& options) {
  std::set<std::string> drop(options.unset_env.begin(), options.unset_env.end());
  for (const auto& [key, value] : options.env) drop.insert(key);
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string text(*entry);
    std::string key = text.substr(0, text.find('='));
    if (drop.count(key) == 0) env.push_back(std::move(text));
  }
  for (const auto& [key, value] : options.env) env.push_back(key + "=" + value);
  return env;
}

int PidfdOpen(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

}  // namespace

std::string SignalName(int signal_number) {
  switch (signal_number) {
    case SIGABRT:
      return "SIGABRT";
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGKILL:
      return "SIGKILL";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    case SIGHUP:
      return "SIGHUP";
    case SIGPIPE:
      return "SIGPIPE";
    case SIGQUIT:
      return "SIGQUIT";
    case SIGTRAP:
      return "SIGTRAP";
    case SIGXCPU:
      return "SIGXCPU";
    default:
      return "signal " + std::to_string(signal_number);
  }
}

std::string ProcessResult::Describe() const {
  std::string text;
  if (!started) {
    text = "did not start: " + error;
  } else if (timed_out) {
    text = "timed out after " + std::to_string(wall.count()) + " ms (killed)";
  } else if (exited) {
    text = "exit " + std::to_string(exit_code);
  } else {
    text = "killed by " + SignalName(term_signal);
  }
  text += " after " + std::to_string(wall.count()) + " ms";
  constexpr std::size_t kTail = 4000;
  auto tail = [](const std::string& s) {
    return s.size() <= kTail ? s : "..." + s.substr(s.size() - kTail);
  };
  text += "\n--- stderr ---\n" + tail(err);
  text += "\n--- stdout (" + std::to_string(out.size()) + " bytes) ---\n" + tail(out);
  return text;
}

ProcessResult RunProcess(const ProcessOptions& options) {
  ProcessResult result;
  if (options.argv.empty()) {
    result.error = "empty argv";
    return result;
  }

  int out_pipe[2];
  int err_pipe[2];
  if (!MakePipe(out_pipe)) {
    result.error = ErrnoText("pipe", errno);
    return result;
  }
  if (!MakePipe(err_pipe)) {
    result.error = ErrnoText("pipe", errno);
    close(out_pipe[0]);
    close(out_pipe[1]);
    return result;
  }
  Fds owned{{out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err_pipe[1], 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options.cwd.c_str());

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Own process group: the hard timeout kills everything the child started in it.
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  posix_spawnattr_setsigmask(&attr, &empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<std::string> env = BuildEnvironment(options);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options.argv;
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  Clock::time_point start = Clock::now();
  pid_t pid = -1;
  int spawn_error = posix_spawn(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawn_error != 0) {
    result.error = ErrnoText("posix_spawn " + options.argv[0], spawn_error);
    return result;
  }
  result.started = true;
  result.pid = pid;

  // The parent keeps only the read ends.
  close(out_pipe[1]);
  close(err_pipe[1]);
  owned.fds = {out_pipe[0], err_pipe[0]};
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  int pidfd = PidfdOpen(pid);
  if (pidfd >= 0) owned.fds.push_back(pidfd);

  bool out_open = true;
  bool err_open = true;
  bool reaped = false;
  int status = -1;  // neither WIFEXITED nor WIFSIGNALED until wait4 fills it
  struct rusage usage {};
  const Clock::time_point deadline = start + options.timeout;
  std::optional<Clock::time_point> signal_at;
  if (options.signal_after && options.signal_number != 0) signal_at = start + *options.signal_after;

  auto try_reap = [&](bool block) {
    for (;;) {
      pid_t got = wait4(pid, &status, block ? 0 : WNOHANG, &usage);
      if (got == pid) {
        reaped = true;
        return;
      }
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        result.error = ErrnoText("wait4", errno);
        reaped = true;  // nothing more to wait for
      }
      return;
    }
  };

  while (!reaped) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      result.timed_out = true;
      try_reap(true);
      break;
    }
    if (signal_at && now >= *signal_at) {
      if (kill(pid, options.signal_number) == 0) result.signal_sent = true;
      signal_at.reset();
    }
    Clock::time_point wake = deadline;
    if (signal_at) wake = std::min(wake, *signal_at);
    auto wait_ms = std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1;
    if (pidfd < 0) wait_ms = std::min<long long>(wait_ms, 20);

    std::vector<pollfd> fds;
    if (out_open) fds.push_back({out_pipe[0], POLLIN, 0});
    if (err_open) fds.push_back({err_pipe[0], POLLIN, 0});
    if (pidfd >= 0) fds.push_back({pidfd, POLLIN, 0});
    int ready = fds.empty() ? 0 : poll(fds.data(), fds.size(), static_cast<int>(wait_ms));
    if (fds.empty()) usleep(static_cast<useconds_t>(std::min<long long>(wait_ms, 20) * 1000));
    if (ready < 0 && errno != EINTR) {
      result.error = ErrnoText("poll", errno);
      break;
    }
    if (out_open) out_open = Drain(out_pipe[0], result.out);
    if (err_open) err_open = Drain(err_pipe[0], result.err);
    try_reap(false);
  }
  // Everything the child wrote before it exited is already in the pipes. Whatever a surviving
  // descendant still holds open is not waited for.
  if (out_open) Drain(out_pipe[0], result.out);
  if (err_open) Drain(err_pipe[0], result.err);
  if (!reaped) {
    kill(-pid, SIGKILL);
    try_reap(true);
  }
  result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);

  if (WIFEXITED(status)) {
    result.exited = !result.timed_out;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  result.peak_rss_kib = usage.ru_maxrss;
  return result;
}

}  // namespace stagehost::testutil
