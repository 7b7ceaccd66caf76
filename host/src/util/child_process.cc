// Child processes in their own group, with limits, merged output and cancel forwarding.
#include "util/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "util/unique_fd.h"

namespace stagehost {
namespace {

using Clock = std::chrono::steady_clock;

void SetLimit(int resource, uint64_t value) {
  struct rlimit limit = {value, value};
  ::setrlimit(resource, &limit);
}

// In the forked child: async-signal-safe calls only, up to exec.
[[noreturn]] void ExecChild(char* const argv[], char* const envp[], const char* cwd, int output,
                            const ChildLimits& limits) {
  ::setpgid(0, 0);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(output, 1) < 0 || ::dup2(output, 2) < 0) {
    ::_exit(127);
  }
  ::close_range(3, ~0U, 0);
  if (cwd != nullptr && ::chdir(cwd) != 0) ::_exit(127);
  if (limits.open_files > 0) SetLimit(RLIMIT_NOFILE, limits.open_files);
  if (limits.processes > 0) SetLimit(RLIMIT_NPROC, limits.processes);
  if (limits.memory_bytes > 0) SetLimit(RLIMIT_AS, limits.memory_bytes);
  if (limits.cpu_seconds > 0) SetLimit(RLIMIT_CPU, limits.cpu_seconds);
  if (!limits.core_dumps) SetLimit(RLIMIT_CORE, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT}) ::signal(sig, SIG_DFL);
  ::execvpe(argv[0], argv, envp);
  ::_exit(127);
}

}  // namespace

int ShellExitCode(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

Result<ChildExit> RunChild(const ChildOptions& options,
                           const std::function<void(std::string_view)>& on_output, int cancel_fd,
                           std::chrono::milliseconds grace,
                           const std::function<void(pid_t)>& on_started) {
  if (options.argv.empty()) return InvalidArgument("no command to run");
  std::vector<char*> argv, envp;
  for (const std::string& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  for (const std::string& entry : options.env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    ExecChild(argv.data(), envp.data(), options.cwd.empty() ? nullptr : options.cwd.c_str(),
              write_end.get(), options.limits);
  }
  ::setpgid(pid, pid);
  write_end.Reset();
  if (on_started) on_started(pid);
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  ChildExit result;
  result.process_group = pid;
  std::optional<Clock::time_point> kill_at;
  bool output_open = true;
  bool exited = false;
  Clock::time_point drain_until;
  char buffer[65536];
  while (!exited || output_open) {
    int wait_ms = 250;
    if (kill_at) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*kill_at - Clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count() + 1, 250)));
    }
    if (exited) wait_ms = 200;  // only draining what descendants still write
    struct pollfd fds[3] = {{output_open ? read_end.get() : -1, POLLIN, 0},
                            {exited ? -1 : pidfd.get(), POLLIN, 0},
                            {result.stopped ? -1 : cancel_fd, POLLIN, 0}};
    int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (fds[2].revents != 0) {
      result.stopped = true;
      ::kill(-pid, SIGTERM);
      kill_at = Clock::now() + grace;
    }
    if (kill_at && Clock::now() >= *kill_at) {
      ::kill(-pid, SIGKILL);
      kill_at.reset();
    }
    if (fds[0].revents != 0) {
      ssize_t n = ::read(read_end.get(), buffer, sizeof(buffer));
      if (n > 0) {
        on_output(std::string_view(buffer, static_cast<size_t>(n)));
      } else if (n == 0 || errno != EINTR) {
        output_open = false;
      }
    }
    if (!exited && (fds[1].revents != 0 || !pidfd.valid())) {
      int status;
      pid_t r = ::waitpid(pid, &status, pidfd.valid() ? 0 : WNOHANG);
      if (r == pid) {
        exited = true;
        drain_until = Clock::now() + std::chrono::seconds(2);
        result.wait_status = status;
        if (result.stopped) ::kill(-pid, SIGKILL);  // nothing of a stopped job outlives it
      }
    }
    // A background process holding the pipe keeps it open; once the child is gone, stop reading
    // when a poll comes back empty, or after two seconds of a chatty descendant.
    if (exited && (ready == 0 || Clock::now() >= drain_until)) break;
  }
  return result;
}

}  // namespace stagehost
