// The worker process: loads one plugin, describes it, runs one stage, exits.
#pragma once

#include <string>

namespace stagehost {

struct WorkerArgs {
  int channel_fd = -1;  // socketpair end to the host
  int plugin_fd = -1;   // the verified plugin file, loaded as /proc/self/fd/N
  std::string display_path;
};

// Runs the worker side of the protocol and returns the process exit code. The caller must exit
// with _exit(): the plugin stays mapped until the process ends and its static destructors, if
// any, are not run (the process exit is the unload).
int RunWorker(const WorkerArgs& args);

}  // namespace stagehost
