// RunChild: runs a command in its own process group, streams its output, forwards a cancel.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost {

// Resource limits applied in the child before exec; 0 leaves a limit as inherited.
struct ChildLimits {
  uint64_t open_files = 0;    // RLIMIT_NOFILE
  uint64_t processes = 0;     // RLIMIT_NPROC
  uint64_t memory_bytes = 0;  // RLIMIT_AS
  uint64_t cpu_seconds = 0;   // RLIMIT_CPU
  bool core_dumps = false;    // RLIMIT_CORE 0 unless true
};

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  std::vector<std::string> env;   // "KEY=VALUE", the whole environment
  std::string cwd;                // empty = inherit
  ChildLimits limits;
};

struct ChildExit {
  int wait_status = 0;      // as from waitpid
  bool stopped = false;     // ended because cancel_fd became readable
  pid_t process_group = 0;  // the child's group (its pid)
};

// Starts the child with stdout and stderr on one pipe (so the job log keeps the order in which
// lines were written), calls `on_output` with every chunk, and waits for it to exit. When
// `cancel_fd` (may be -1) becomes readable: SIGTERM to the child's process group, SIGKILL after
// `grace`. Once the child has exited, whatever else of its group is left is killed too only when
// it was stopped; a job's background processes otherwise live on until its cleanup.
// `on_started` (optional) receives the process group as soon as it exists.
Result<ChildExit> RunChild(const ChildOptions& options,
                           const std::function<void(std::string_view)>& on_output, int cancel_fd,
                           std::chrono::milliseconds grace,
                           const std::function<void(pid_t)>& on_started = {});

// The exit code a shell would report: the status, or 128 + signal.
int ShellExitCode(int wait_status);

}  // namespace stagehost
