// Stage type names and the JSON form of PluginInfo.
#include "plugin/plugin_info.h"

#include <array>
#include <nlohmann/json.hpp>
#include <utility>

namespace stagehost {
namespace {

constexpr std::array<std::pair<stagehost_stage_type, std::string_view>, 4> kStageNames = {{
    {STAGEHOST_STAGE_UNIT_TEST, "unit-test"},
    {STAGEHOST_STAGE_MODEL_VALIDATION, "model-validation"},
    {STAGEHOST_STAGE_SECURITY_SCAN, "security-scan"},
    {STAGEHOST_STAGE_DEPLOY, "deploy"},
}};

}  // namespace

std::optional<stagehost_stage_type> StageTypeFromName(std::string_view name) {
  for (const auto& [type, type_name] : kStageNames) {
    if (type_name == name) return type;
  }
  return std::nullopt;
}

std::string_view StageTypeName(stagehost_stage_type type) {
  for (const auto& [known, name] : kStageNames) {
    if (known == type) return name;
  }
  return "unknown";
}

void to_json(nlohmann::json& j, const PluginInfo& info) {
  j = nlohmann::json{
      {"name", info.name},
      {"version", info.version},
      {"stage", std::string(StageTypeName(info.stage_type))},
      {"description", info.description},
      {"vendor", info.vendor},
      {"license", info.license},
      {"abi", std::to_string(info.abi_major) + "." + std::to_string(info.abi_minor)},
      {"abi_major", info.abi_major},
      {"abi_minor", info.abi_minor},
      {"supports_request_cancel", info.supports_request_cancel},
      {"config_schema", info.config_schema_json},
      {"path", info.path},
      {"sha256", info.sha256},
  };
}

void from_json(const nlohmann::json& j, PluginInfo& info) {
  info.name = j.at("name").get<std::string>();
  info.version = j.at("version").get<std::string>();
  info.stage_type =
      StageTypeFromName(j.at("stage").get<std::string>()).value_or(STAGEHOST_STAGE_UNIT_TEST);
  info.description = j.at("description").get<std::string>();
  info.vendor = j.at("vendor").get<std::string>();
  info.license = j.at("license").get<std::string>();
  info.abi_major = j.at("abi_major").get<uint16_t>();
  info.abi_minor = j.at("abi_minor").get<uint16_t>();
  info.supports_request_cancel = j.value("supports_request_cancel", false);
  info.config_schema_json = j.at("config_schema").get<std::string>();
  info.path = j.value("path", "");
  info.sha256 = j.value("sha256", "");
}

}  // namespace stagehost
