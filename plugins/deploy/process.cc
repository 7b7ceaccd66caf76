// process.cc -- fork/exec with a pipe and poll(), killing the child's process group on timeout.
#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace stagehost::deploy {

std::string CommandResult::Describe() const {
  if (!started) return "could not start: " + error;
  std::string what;
  if (timed_out)
    what = "timed out";
  else if (cancelled)
    what = "cancelled";
  else if (exited)
    what = "exit " + std::to_string(exit_code);
  else
    what = "killed by a signal";
  std::string tail = output.size() > 400 ? output.substr(output.size() - 400) : output;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  return tail.empty() ? what : what + ": " + tail;
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout,
                         const std::function<bool()>& cancelled) {
  CommandResult r;
  if (argv.empty()) {
    r.error = "empty argv";
    return r;
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    r.error = std::strerror(errno);
    return r;
  }
  // Build the exec arrays before fork: the child may only call async-signal-safe functions.
  std::vector<char*> cargv, cenv;
  for (const std::string& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const std::string& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = ::fork();
  if (pid < 0) {
    r.error = std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    if (devnull >= 0) ::close(devnull);
    return r;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (devnull >= 0) ::dup2(devnull, 0);
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::execvpe(cargv[0], cargv.data(), cenv.data());
    const char* msg = "exec failed: ";
    (void)!::write(2, msg, std::strlen(msg));
    (void)!::write(2, std::strerror(errno), std::strlen(std::strerror(errno)));
    ::_exit(127);
  }
  ::setpgid(pid, pid);
  ::close(fds[1]);
  if (devnull >= 0) ::close(devnull);
  r.started = true;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  bool open = true;
  while (open) {
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, 100);
    if (n > 0) {
      ssize_t got = ::read(fds[0], buf, sizeof buf);
      if (got > 0) {
        r.output.append(buf, static_cast<size_t>(got));
        if (r.output.size() > (64u << 10)) r.output.erase(0, r.output.size() - (64u << 10));
      } else if (got == 0 || errno != EINTR) {
        open = false;
      }
    }
    if (open && (std::chrono::steady_clock::now() > deadline || (cancelled && cancelled()))) {
      (std::chrono::steady_clock::now() > deadline ? r.timed_out : r.cancelled) = true;
      ::kill(-pid, SIGKILL);
      open = false;
    }
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    r.exited = !r.timed_out && !r.cancelled;
    r.exit_code = WEXITSTATUS(status);
  }
  return r;
}

}  // namespace stagehost::deploy
