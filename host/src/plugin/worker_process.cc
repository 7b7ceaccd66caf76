// Spawning a worker, reading its frames, and escalating cancel/timeout to signals.
#include "plugin/worker_process.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "plugin/worker_protocol.h"

namespace stagehost {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Fixed fd numbers inside the worker: what `stagehost __worker` is told on its command line.
constexpr int kWorkerChannelFd = 3;
constexpr int kWorkerPluginFd = 4;
// Output a plugin writes before its run starts (static constructors) is kept for messages.
constexpr size_t kEarlyOutputCap = 4096;

std::string SelfExecutable() {
  char buffer[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buffer, sizeof(buffer) - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buffer, static_cast<size_t>(n));
}

// Runs in the forked child, so only async-signal-safe calls until execv.
[[noreturn]] void ExecWorker(const char* executable, char* const argv[], int channel, int plugin,
                             int output, uint64_t memory_limit, pid_t parent) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(126);  // the host died before prctl took effect

  // Move the inherited fds above the fixed numbers first, so dup2 cannot clobber one of them.
  int high_channel = ::fcntl(channel, F_DUPFD, 10);
  int high_plugin = ::fcntl(plugin, F_DUPFD, 10);
  int high_output = ::fcntl(output, F_DUPFD, 10);
  int devnull = ::open("/dev/null", O_RDONLY);
  if (high_channel < 0 || high_plugin < 0 || high_output < 0 || devnull < 0) ::_exit(125);
  if (::dup2(devnull, 0) < 0 || ::dup2(high_output, 1) < 0 || ::dup2(high_output, 2) < 0 ||
      ::dup2(high_channel, kWorkerChannelFd) < 0 || ::dup2(high_plugin, kWorkerPluginFd) < 0) {
    ::_exit(125);
  }
  ::close_range(kWorkerPluginFd + 1, ~0U, 0);

  struct rlimit no_core = {0, 0};
  ::setrlimit(RLIMIT_CORE, &no_core);
  if (memory_limit > 0) {
    struct rlimit as = {memory_limit, memory_limit};
    ::setrlimit(RLIMIT_AS, &as);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  ::execv(executable, argv);
  ::_exit(127);
}

}  // namespace

std::string SignalName(int signal) {
  const char* abbrev = ::sigabbrev_np(signal);
  if (abbrev == nullptr) return fmt::format("signal {}", signal);
  return fmt::format("SIG{}", abbrev);
}

Result<std::unique_ptr<WorkerProcess>> WorkerProcess::Spawn(const VerifiedPlugin& plugin,
                                                            const WorkerOptions& options) {
  std::string executable = options.executable.empty() ? SelfExecutable() : options.executable;
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    return ErrnoStatus("socketpair", errno);
  }
  UniqueFd host_end(sockets[0]), worker_end(sockets[1]);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return ErrnoStatus("pipe", errno);
  UniqueFd output_read(pipe_fds[0]), output_write(pipe_fds[1]);

  std::string channel_arg = std::to_string(kWorkerChannelFd);
  std::string plugin_arg = std::to_string(kWorkerPluginFd);
  std::string path_arg = plugin.path.string();
  std::vector<char*> argv = {
      const_cast<char*>("stagehost"),         const_cast<char*>("__worker"),
      const_cast<char*>(channel_arg.c_str()), const_cast<char*>(plugin_arg.c_str()),
      const_cast<char*>(path_arg.c_str()),    nullptr};
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return ErrnoStatus("fork", errno);
  if (pid == 0) {
    ExecWorker(executable.c_str(), argv.data(), worker_end.get(), plugin.fd.get(),
               output_write.get(), options.memory_limit_bytes, parent);
  }
  ::setpgid(pid, pid);  // also in the child: whichever runs first wins the race
  ::fcntl(output_read.get(), F_SETFL, ::fcntl(output_read.get(), F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<WorkerProcess>(new WorkerProcess(pid, std::move(host_end),
                                                          std::move(output_read), path_arg,
                                                          plugin.sha256, options.describe_timeout));
}

WorkerProcess::WorkerProcess(pid_t pid, UniqueFd channel, UniqueFd output, std::string display_path,
                             std::string sha256, std::chrono::milliseconds describe_timeout)
    : pid_(pid),
      channel_(std::move(channel)),
      output_(std::move(output)),
      display_path_(std::move(display_path)),
      sha256_(std::move(sha256)),
      describe_timeout_(describe_timeout) {}

WorkerProcess::~WorkerProcess() {
  if (!wait_status_) {
    KillGroup(SIGKILL);
    (void)Reap(std::chrono::milliseconds(1000));
  }
}

void WorkerProcess::KillGroup(int signal) { ::kill(-pid_, signal); }

void WorkerProcess::Reaped(int status, const struct rusage& usage) {
  wait_status_ = status;
  auto seconds = [](const struct timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  // The worker is forked from this small process, so its ru_maxrss is its own peak, not an
  // inherited high-water mark.
  usage_ = ResourceUsage{static_cast<uint64_t>(usage.ru_maxrss), seconds(usage.ru_utime),
                         seconds(usage.ru_stime)};
}

int WorkerProcess::Reap(std::chrono::milliseconds timeout) {
  if (wait_status_) return *wait_status_;
  // A pidfd becomes readable when the process exits: wait for that instead of polling waitpid,
  // which would add its polling interval to every stage.
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0)));
  bool exited = false;
  if (pidfd.valid()) {
    struct pollfd fd = {pidfd.get(), POLLIN, 0};
    int ready;
    do {
      ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
    } while (ready < 0 && errno == EINTR);
    exited = ready > 0;
  } else {  // kernels before 5.3
    siginfo_t info = {};
    for (auto give_up = Clock::now() + timeout; Clock::now() < give_up;) {
      if (::waitid(P_PID, pid_, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid_) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  if (!exited) KillGroup(SIGKILL);
  int status = 0;
  struct rusage usage = {};
  while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  Reaped(status, usage);
  // Whatever the plugin started in the worker's group must not outlive the stage.
  KillGroup(SIGKILL);
  return status;
}

Result<PluginInfo> WorkerProcess::AwaitDescription() {
  FrameDecoder decoder;
  std::string early_output;
  auto give_up = Clock::now() + describe_timeout_;
  bool hello = false;
  for (;;) {
    while (std::optional<Frame> frame = decoder.Next()) {
      if (frame->type == FrameType::kHello) {
        json body = json::parse(frame->payload, nullptr, false);
        uint32_t version = body.is_object() ? body.value("protocol", 0u) : 0u;
        if (version != kWorkerProtocolVersion) {
          return Internal(fmt::format("worker speaks protocol {}, host speaks {}", version,
                                      kWorkerProtocolVersion));
        }
        hello = true;
      } else if (frame->type == FrameType::kDescribed && hello) {
        json body = json::parse(frame->payload, nullptr, false);
        if (!body.is_object()) return Internal("malformed DESCRIBED frame from worker");
        if (!body.value("ok", false)) {
          (void)Reap(std::chrono::milliseconds(2000));
          return PluginError(body.value("message", "plugin refused"));
        }
        PluginInfo info = body.at("info").get<PluginInfo>();
        info.path = display_path_;
        info.sha256 = sha256_;
        described_ = true;
        return info;
      } else {
        return Internal("unexpected frame from worker while loading");
      }
    }
    if (decoder.error()) return Internal("malformed frame from worker");

    auto now = Clock::now();
    if (now >= give_up) {
      KillGroup(SIGKILL);
      (void)Reap(std::chrono::milliseconds(1000));
      return PluginError(fmt::format("{}: plugin did not finish loading within {} ms",
                                     display_path_, describe_timeout_.count()));
    }
    struct pollfd fds[2] = {{channel_.get(), POLLIN, 0}, {output_.get(), POLLIN, 0}};
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(give_up - now).count());
    int ready = ::poll(fds, 2, std::min(wait_ms, 250));
    if (ready < 0 && errno != EINTR) return ErrnoStatus("poll", errno);
    if (fds[1].revents != 0) {
      char buffer[4096];
      ssize_t n = ::read(output_.get(), buffer, sizeof(buffer));
      if (n > 0 && early_output.size() < kEarlyOutputCap) {
        early_output.append(
            buffer, std::min(static_cast<size_t>(n), kEarlyOutputCap - early_output.size()));
      }
    }
    if (fds[0].revents != 0) {
      char buffer[65536];
      ssize_t n = ::read(channel_.get(), buffer, sizeof(buffer));
      if (n > 0) {
        decoder.Append(std::string_view(buffer, static_cast<size_t>(n)));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      // The worker died before describing the plugin: a static constructor crashed or aborted.
      int status = Reap(std::chrono::milliseconds(2000));
      std::string detail =
          early_output.empty() ? "" : fmt::format("; its output: {}", early_output);
      if (WIFSIGNALED(status)) {
        return PluginError(fmt::format("{}: plugin crashed while loading: {}{}", display_path_,
                                       SignalName(WTERMSIG(status)), detail));
      }
      return PluginError(fmt::format("{}: worker exited with code {} while loading the plugin{}",
                                     display_path_, WEXITSTATUS(status), detail));
    }
  }
}

void WorkerProcess::Quit() {
  if (wait_status_) return;
  (void)WriteFrame(channel_.get(), FrameType::kQuit, "");
  (void)Reap(std::chrono::milliseconds(2000));
}

bool WorkerProcess::DrainOutput(RunEvents& events) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(output_.get(), buffer, sizeof(buffer));
    if (n > 0) {
      events.OnLog(kRawOutputStream, STAGEHOST_LEVEL_INFO,
                   std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);  // false at EOF
  }
}

PluginVerdict WorkerProcess::Run(const RunRequest& request, RunEvents& events,
                                 const RunControl& control) {
  if (!described_) return {STAGEHOST_PLUGIN_ERROR, "worker has not described its plugin", "load"};
  if (Status sent = WriteFrame(channel_.get(), FrameType::kRun, json(request).dump()); !sent.ok()) {
    (void)Reap(std::chrono::milliseconds(1000));
    return {STAGEHOST_PLUGIN_ERROR, "cannot start the run: " + sent.message(), "run"};
  }

  enum class StopReason { kNone, kCancel, kTimeout } reason = StopReason::kNone;
  // Escalation times; kNever = not scheduled.
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point term_at = kNever, kill_at = kNever;
  std::optional<json> result;
  FrameDecoder decoder;
  bool channel_open = true;
  bool output_open = true;

  auto begin_stop = [&](StopReason why) {
    reason = why;
    (void)WriteFrame(channel_.get(), FrameType::kCancel, "");
    term_at = Clock::now() + control.cancel_grace;
  };

  auto handle_frame = [&](const Frame& frame) {
    switch (frame.type) {
      case FrameType::kLog:
        if (frame.payload.size() >= 2) {
          events.OnLog(static_cast<uint8_t>(frame.payload[0]),
                       static_cast<uint8_t>(frame.payload[1]),
                       std::string_view(frame.payload).substr(2));
        }
        break;
      case FrameType::kArtifact: {
        json body = json::parse(frame.payload, nullptr, false);
        if (!body.is_object()) break;
        Status accepted = events.OnArtifact(body.value("rel_path", ""), body.value("name", ""),
                                            body.value("media_type", ""));
        json reply{
            {"id", body.value("id", 0)}, {"ok", accepted.ok()}, {"message", accepted.message()}};
        (void)WriteFrame(channel_.get(), FrameType::kArtifactReply, reply.dump());
        break;
      }
      case FrameType::kProgress: {
        json body = json::parse(frame.payload, nullptr, false);
        if (body.is_object())
          events.OnProgress(body.value("permille", 0u), body.value("message", ""));
        break;
      }
      case FrameType::kOutput: {
        json body = json::parse(frame.payload, nullptr, false);
        if (body.is_object()) events.OnOutput(body.value("key", ""), body.value("json", "null"));
        break;
      }
      case FrameType::kResult: {
        json body = json::parse(frame.payload, nullptr, false);
        if (body.is_object()) result = std::move(body);
        break;
      }
      default:
        break;
    }
  };

  while (channel_open) {
    auto now = Clock::now();
    if (reason == StopReason::kNone && control.deadline && now >= *control.deadline) {
      begin_stop(StopReason::kTimeout);
    }
    if (now >= term_at) {
      KillGroup(SIGTERM);
      term_at = kNever;
      kill_at = now + control.kill_grace;
    }
    if (now >= kill_at) {
      KillGroup(SIGKILL);
      kill_at = kNever;
    }

    auto next = now + std::chrono::milliseconds(250);  // also bounds the waitpid check below
    if (reason == StopReason::kNone && control.deadline) next = std::min(next, *control.deadline);
    next = std::min({next, term_at, kill_at});
    int wait_ms = static_cast<int>(std::max<int64_t>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count() + 1));

    struct pollfd fds[3] = {{channel_.get(), POLLIN, 0},
                            {output_open ? output_.get() : -1, POLLIN, 0},
                            {reason == StopReason::kNone ? control.cancel_fd : -1, POLLIN, 0}};
    int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) {
      // A worker that exited while a leaked descendant keeps the channel open must not hang us.
      int status;
      struct rusage usage = {};
      if (::wait4(pid_, &status, WNOHANG, &usage) == pid_) {
        Reaped(status, usage);
        break;
      }
      continue;
    }
    if (fds[2].revents != 0) {
      char drain[64];
      (void)!::read(control.cancel_fd, drain, sizeof(drain));
      begin_stop(StopReason::kCancel);
    }
    if (fds[1].revents != 0) output_open = DrainOutput(events);
    if (fds[0].revents != 0) {
      char buffer[256 * 1024];
      ssize_t n = ::read(channel_.get(), buffer, sizeof(buffer));
      if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
        channel_open = false;
      } else if (n > 0) {
        decoder.Append(std::string_view(buffer, static_cast<size_t>(n)));
        while (std::optional<Frame> frame = decoder.Next()) handle_frame(*frame);
        if (decoder.error()) {
          KillGroup(SIGKILL);
          channel_open = false;
        }
      }
    }
  }

  int status = Reap(result ? std::chrono::milliseconds(5000) : control.kill_grace);
  // The group is dead now; collect what it wrote last (bounded, in case a descendant that left the
  // group still holds the pipe).
  auto drain_until = Clock::now() + std::chrono::milliseconds(200);
  while (output_open && Clock::now() < drain_until) {
    struct pollfd fd = {output_.get(), POLLIN, 0};
    if (::poll(&fd, 1, 50) > 0) output_open = DrainOutput(events);
  }

  const std::string timeout_message =
      fmt::format("timed out after {}", control.timeout_description);
  if (result) {
    PluginVerdict verdict{static_cast<stagehost_status>(result->value("status", 3)),
                          result->value("message", ""), result->value("phase", "run")};
    if (reason == StopReason::kTimeout &&
        (verdict.status == STAGEHOST_CANCELLED || verdict.status == STAGEHOST_TIMEOUT)) {
      verdict.status = STAGEHOST_TIMEOUT;
      // "cancelled" is what the SDK says for any stop; the timeout is the news here.
      bool says_more = !verdict.message.empty() && verdict.message != "cancelled";
      verdict.message = says_more ? timeout_message + ": " + verdict.message : timeout_message;
    } else if (reason == StopReason::kCancel && verdict.status == STAGEHOST_CANCELLED &&
               verdict.message.empty()) {
      verdict.message = "cancelled";
    }
    return verdict;
  }
  if (reason != StopReason::kNone) {
    std::string how = WIFSIGNALED(status)
                          ? fmt::format("the plugin did not stop in time and was ended with {}",
                                        SignalName(WTERMSIG(status)))
                          : "the plugin stopped without a result";
    if (reason == StopReason::kTimeout)
      return {STAGEHOST_TIMEOUT, timeout_message + "; " + how, "run"};
    return {STAGEHOST_CANCELLED, "cancelled; " + how, "run"};
  }
  if (WIFSIGNALED(status)) {
    return {STAGEHOST_PLUGIN_ERROR,
            fmt::format("plugin crashed: {} (signal {})", SignalName(WTERMSIG(status)),
                        WTERMSIG(status)),
            "run"};
  }
  return {STAGEHOST_PLUGIN_ERROR,
          fmt::format("worker exited with code {} without reporting a result", WEXITSTATUS(status)),
          "run"};
}

}  // namespace stagehost
