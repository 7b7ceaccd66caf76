// run_process.h -- runs a command for a test: argv + extra environment, stdout and stderr captured
// in full (both pipes polled, so neither can block the child), stdin closed (/dev/null), an
// optional signal sent after a delay, and a hard timeout after which the child's whole process
// group is killed. Returns how it ended, the wall time and the peak RSS (wait4 rusage).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace stagehost::testutil {

struct ProcessOptions {
  // argv[0] is the program (a path; PATH is not searched).
  std::vector<std::string> argv;
  // Added to (or replacing in) the test's own environment.
  std::map<std::string, std::string> env;
  // Removed from the environment the child inherits.
  std::vector<std::string> unset_env;
  // Working directory of the child; empty = the test's.
  std::string cwd;
  // When set, `signal_number` is sent to the child (its pid only, not its group) this long after
  // it started, if it is still running.
  std::optional<std::chrono::milliseconds> signal_after;
  int signal_number = 0;
  // Hard limit: past it the child's process group is SIGKILLed and `timed_out` is set.
  std::chrono::milliseconds timeout{30000};
};

struct ProcessResult {
  bool started = false;      // false: spawn failed, see `error`
  std::string error;         // spawn or wait error
  bool exited = false;       // exited normally (then `exit_code` is valid)
  int exit_code = -1;        //
  int term_signal = 0;       // the signal that terminated it, when !exited
  bool timed_out = false;    // the test's hard timeout fired and the child was killed
  bool signal_sent = false;  // `signal_number` was delivered while the child ran
  pid_t pid = -1;
  std::string out;  // everything written to stdout
  std::string err;  // everything written to stderr
  std::chrono::milliseconds wall{0};
  // Peak resident set size in KiB of the child and of every descendant it waited for
  // (wait4's rusage: ru_maxrss covers the process and its reaped children).
  long peak_rss_kib = 0;

  // "exit 2" / "killed by SIGSEGV" / "timed out", then the tail of stderr: for failure messages.
  std::string Describe() const;
};

ProcessResult RunProcess(const ProcessOptions& options);

// The signal's name without a number, e.g. "SIGTERM".
std::string SignalName(int signal_number);

}  // namespace stagehost::testutil
