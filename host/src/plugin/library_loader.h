// Maps a plugin's code with Boost.DLL and negotiates its descriptor (plugin-abi.md §13 steps 4-8).
#pragma once

#include <stagehost/plugin_abi.h>

#include <string>

#include "plugin/plugin_info.h"
#include "util/status.h"

namespace stagehost {

struct LoadedPlugin {
  const stagehost_plugin_descriptor* descriptor = nullptr;  // lives until the process exits
  PluginInfo info;
};

// Loads `load_path` (normally /proc/self/fd/N of an already-verified descriptor, so the bytes
// checked are the bytes mapped) with rtld_now | rtld_local, finds stagehost_plugin_entry, calls it
// and checks the descriptor. `display_path` names the file in messages. The library is never
// unloaded: it stays in a process-wide registry until exit. Runs the plugin's static
// constructors, so call it in a worker process unless debugging (--in-process).
Result<LoadedPlugin> LoadPluginLibrary(const std::string& load_path,
                                       const std::string& display_path);

}  // namespace stagehost
