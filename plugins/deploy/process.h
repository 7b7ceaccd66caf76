// process.h -- runs a command (argv, no shell) for the deploy drivers: output captured (capped),
// a timeout after which the process group is killed, cancellation polled.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace stagehost::deploy {

struct CommandResult {
  bool started = false;
  int exit_code = -1;  // valid when exited
  bool exited = false;
  bool timed_out = false;
  bool cancelled = false;
  std::string output;  // stdout and stderr interleaved, at most 64 KiB (the tail)
  std::string error;   // why it could not start

  bool ok() const { return started && exited && exit_code == 0; }
  std::string Describe() const;
};

// Runs argv[0] (searched in PATH) with `env` ("KEY=VALUE" entries) as its whole environment.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                         std::chrono::milliseconds timeout,
                         const std::function<bool()>& cancelled = {});

}  // namespace stagehost::deploy
