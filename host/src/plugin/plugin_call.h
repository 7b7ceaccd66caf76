// One stage run of a loaded plugin: create -> run -> destroy, with errors turned into data.
#pragma once

#include <stagehost/plugin_abi.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "plugin/host_context.h"

namespace stagehost {

// What the host hands a plugin for one run (the C stagehost_run_input, owned).
struct RunRequest {
  std::string config_json = "{}";  // already validated against the plugin's schema
  std::string workspace_dir;
  std::string artifact_dir;
  uint64_t deadline_unix_ms = 0;
  std::vector<std::string> env;  // "KEY=VALUE"
};

void to_json(nlohmann::json& j, const RunRequest& request);
void from_json(const nlohmann::json& j, RunRequest& request);

// The plugin's verdict: a stagehost_status with its message, and the phase it came from.
struct PluginVerdict {
  stagehost_status status = STAGEHOST_PLUGIN_ERROR;
  std::string message;
  std::string phase;  // "create" or "run"
};

// Creates, runs and destroys one instance. Never throws; an unknown status value from the plugin
// becomes PLUGIN_ERROR. `context` is invalidated after destroy.
PluginVerdict CallPlugin(const stagehost_plugin_descriptor* descriptor, const RunRequest& request,
                         HostContext& context);

}  // namespace stagehost
