// RunScriptStep: runs a CI step's command lines with bash, each echoed before it runs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "util/child_process.h"
#include "util/status.h"

namespace stagehost {

struct ScriptStep {
  std::string name;                // names the script file
  std::vector<std::string> lines;  // each a shell command (may span lines)
  std::vector<std::string> env;    // the whole environment, "KEY=VALUE"
  std::filesystem::path cwd;       // the project directory
  std::filesystem::path temp_dir;  // where the script file is written
  std::chrono::milliseconds kill_grace{10000};
  int cancel_fd = -1;  // readable = stop: SIGTERM the group, SIGKILL after the grace
};

struct ScriptResult {
  int exit_code = 0;     // as a shell reports it (128 + signal)
  bool stopped = false;  // ended because cancel_fd became readable
};

// The script is `set -eo pipefail`, then per line a green "$ line" echo and the line itself, as
// gitlab-runner's bash shell writes it, run by a non-login `bash --noprofile --norc` (no profile
// cost per step). stdout and stderr go, in order, to `on_output`.
Result<ScriptResult> RunScriptStep(const ScriptStep& step,
                                   const std::function<void(std::string_view)>& on_output);

// `text` as a bash $'…' word that expands to exactly `text`.
std::string BashAnsiQuote(std::string_view text);

}  // namespace stagehost
