// process.cc -- posix_spawn + poll loop + process-group kill escalation.
#include "process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "junit_model.h"

namespace stagehost::unit_test {
namespace {

using Clock = std::chrono::steady_clock;

std::uint64_t NowUnixMs() {
  return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::system_clock::now().time_since_epoch())
                                        .count());
}

bool Executable(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string CommandResult::Describe(double timeout_seconds) const {
  if (timed_out)
    return "timed out after " + std::to_string(static_cast<long>(timeout_seconds)) + " s";
  if (deadline) return "stopped at the run's deadline";
  if (cancelled) return "cancelled";
  if (exited) return "exit " + std::to_string(exit_code);
  return "killed by signal " + std::to_string(term_signal) + " (" + strsignal(term_signal) + ")";
}

std::string FindProgram(const std::string& program, const std::string& path,
                        const std::string& cwd) {
  if (program.find('/') != std::string::npos) {
    std::string full = program[0] == '/' ? program : cwd + "/" + program;
    return Executable(full) ? full : "";
  }
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t colon = path.find(':', start);
    std::string dir =
        path.substr(start, colon == std::string::npos ? std::string::npos : colon - start);
    if (dir.empty()) dir = cwd;
    std::string full = dir + "/" + program;
    if (Executable(full)) return full;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

CommandResult RunCommand(const CommandSpec& spec,
                         const std::function<void(std::string_view)>& on_output,
                         const std::function<bool()>& cancelled) {
  if (spec.argv.empty()) throw UsageError("empty argv");
  std::error_code ec;
  if (!std::filesystem::is_directory(spec.cwd, ec)) {
    throw UsageError("working directory " + spec.cwd + " does not exist");
  }
  std::string path_env = "/usr/local/bin:/usr/bin:/bin";
  for (const std::string& e : spec.env) {
    if (e.rfind("PATH=", 0) == 0) path_env = e.substr(5);
  }
  std::string program = FindProgram(spec.argv[0], path_env, spec.cwd);
  if (program.empty()) {
    throw UsageError("\"" + spec.argv[0] + "\" not found or not executable (PATH=" + path_env +
                     ")");
  }

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // its own group: one kill reaches every descendant
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv, envp;
  for (const std::string& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : spec.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = -1;
  auto start = Clock::now();
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw UsageError("cannot start \"" + spec.argv[0] + "\": " + std::strerror(rc));
  }

  CommandResult result;
  bool exited = false, eof = false;
  int status = 0;
  Clock::time_point term_sent{}, kill_sent{};
  auto stop = [&](Clock::time_point now) {
    if (term_sent == Clock::time_point{}) {
      ::kill(-pid, SIGTERM);
      term_sent = now;
    } else if (kill_sent == Clock::time_point{} &&
               now - term_sent >= std::chrono::duration<double>(spec.kill_grace_seconds)) {
      ::kill(-pid, SIGKILL);
      kill_sent = now;
    }
  };
  char buffer[65536];
  Clock::time_point exited_at{};
  while (!(exited && eof)) {
    // A descendant that left the process group (setsid) may hold the pipe open for ever: stop
    // reading two seconds after the command itself exited.
    if (exited && Clock::now() - exited_at > std::chrono::seconds(2)) break;
    pollfd pfd{fds[0], POLLIN, 0};
    int ready = eof ? 0 : ::poll(&pfd, 1, 100);
    if (eof) ::usleep(50 * 1000);
    if (ready > 0) {
      ssize_t n = ::read(fds[0], buffer, sizeof buffer);
      if (n > 0) {
        std::string_view chunk(buffer, static_cast<std::size_t>(n));
        result.output_bytes += chunk.size();
        if (on_output) on_output(chunk);
        result.tail.append(chunk);
        if (result.tail.size() > 2 * spec.tail_bytes + sizeof buffer) {
          result.tail.erase(0, result.tail.size() - spec.tail_bytes);
        }
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        eof = true;
      }
    }
    if (!exited) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = Clock::now();
        // Descendants that still hold the pipe open would keep us here: end them.
        ::kill(-pid, SIGKILL);
      }
    }
    auto now = Clock::now();
    if (!exited) {
      if (cancelled && cancelled()) result.cancelled = true;
      if (spec.timeout_seconds > 0 &&
          now - start >= std::chrono::duration<double>(spec.timeout_seconds)) {
        result.timed_out = true;
      }
      if (spec.deadline_unix_ms > 0 && NowUnixMs() >= spec.deadline_unix_ms) result.deadline = true;
      if (result.cancelled || result.timed_out || result.deadline) stop(now);
    }
  }
  ::close(fds[0]);
  ::kill(-pid, SIGKILL);  // nothing of the command outlives it
  if (result.tail.size() > spec.tail_bytes) {
    result.tail.erase(0, result.tail.size() - spec.tail_bytes);
  }
  result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (WIFEXITED(status)) {
    result.exited = true;
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace stagehost::unit_test
