// process.h -- runs one test command: posix_spawn in its own process group, stdout and stderr
// merged through one pipe and streamed to a callback, a bounded tail kept, and the whole group
// killed on timeout, deadline or cancel (and after the command exits, so nothing outlives it).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::unit_test {

struct CommandSpec {
  std::vector<std::string> argv;       // argv[0] is resolved through PATH from `env`
  std::vector<std::string> env;        // the child's whole environment, "KEY=VALUE"
  std::string cwd;                     // absolute
  double timeout_seconds = 0;          // 0 = none
  std::uint64_t deadline_unix_ms = 0;  // the run's deadline; 0 = none
  std::size_t tail_bytes = 65536;      // output kept in CommandResult::tail
  double kill_grace_seconds = 3;       // SIGTERM, then SIGKILL this much later
};

struct CommandResult {
  bool exited = false;  // exited normally: exit_code is valid
  int exit_code = -1;
  int term_signal = 0;
  bool timed_out = false;  // its own timeout_seconds
  bool deadline = false;   // the run's deadline
  bool cancelled = false;  // `cancelled` returned true
  std::string tail;        // the last tail_bytes of its output
  std::size_t output_bytes = 0;
  std::chrono::milliseconds wall{0};

  bool ok() const { return exited && exit_code == 0; }
  // "exit 1", "killed by signal 11", "timed out after 5 s", ...
  std::string Describe(double timeout_seconds) const;
};

// Resolves `program` as execvp would with PATH=`path`; "" when not found or not executable.
std::string FindProgram(const std::string& program, const std::string& path,
                        const std::string& cwd);

// Runs the command. Throws UsageError when it cannot be started (program not found, cwd missing).
CommandResult RunCommand(const CommandSpec& spec,
                         const std::function<void(std::string_view)>& on_output,
                         const std::function<bool()>& cancelled);

}  // namespace stagehost::unit_test
