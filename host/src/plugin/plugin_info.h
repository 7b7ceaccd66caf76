// PluginInfo: what the host knows of a plugin once its descriptor has been checked.
#pragma once

#include <stagehost/plugin_abi.h>

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace stagehost {

// The stage types of plugin_abi.h, by the names the command line and CI variables use.
std::optional<stagehost_stage_type> StageTypeFromName(std::string_view name);
std::string_view StageTypeName(stagehost_stage_type type);

// A copy of a checked descriptor's identity: safe to keep after the library is gone, and
// serialisable so a worker process can report it to the host.
struct PluginInfo {
  std::string name;
  std::string version;
  stagehost_stage_type stage_type = STAGEHOST_STAGE_UNIT_TEST;
  std::string description;
  std::string vendor;
  std::string license;
  std::string config_schema_json;
  uint16_t abi_major = 0;
  uint16_t abi_minor = 0;
  bool supports_request_cancel = false;
  // Filled by the host from the file, never by the plugin.
  std::string path;
  std::string sha256;
};

void to_json(nlohmann::json& j, const PluginInfo& info);
void from_json(const nlohmann::json& j, PluginInfo& info);

}  // namespace stagehost
