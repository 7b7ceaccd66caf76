// Negotiation and identity checks on a plugin descriptor.
#include "plugin/descriptor_check.h"

#include <fmt/format.h>

#include <cstring>
#include <regex>
#include <type_traits>

#include "plugin/config_schema.h"

namespace stagehost {
namespace {

// Reads a descriptor string member only when struct_size covers it; NULL becomes "".
std::string_view StringMember(const char* value) { return value == nullptr ? "" : value; }

}  // namespace

bool IsValidPluginName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name[0])) return false;
  for (char c : name) {
    if (!lower_or_digit(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

bool IsValidSemver(std::string_view version) {
  // semver.org 2.0.0, the recommended expression.
  static const std::regex kSemver(
      R"(^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*))"
      R"((?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?)"
      R"((?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$)");
  return std::regex_match(version.begin(), version.end(), kSemver);
}

Status CheckAbiVersion(uint16_t plugin_major, uint16_t plugin_minor, uint16_t host_major,
                       uint16_t host_minor) {
  if (plugin_major != host_major) {
    return PluginError(
        fmt::format("plugin needs ABI {}.{}, host provides {}.{}: major versions differ",
                    plugin_major, plugin_minor, host_major, host_minor));
  }
  if (plugin_minor > host_minor) {
    return PluginError(
        fmt::format("plugin needs ABI {}.{}, host provides {}.{}: host minor too old", plugin_major,
                    plugin_minor, host_major, host_minor));
  }
  return Status::Ok();
}

Result<PluginInfo> CheckDescriptor(const stagehost_plugin_descriptor* d, uint16_t host_major,
                                   uint16_t host_minor) {
  if (d == nullptr) {
    return PluginError(fmt::format("plugin declined host ABI {}.{}", host_major, host_minor));
  }
  const uint32_t size = d->struct_size;
  constexpr size_t kVersionEnd =
      offsetof(stagehost_plugin_descriptor, abi_minor) + sizeof(uint16_t);
  if (size < kVersionEnd) {
    return PluginError(
        fmt::format("descriptor struct_size {} is smaller than the ABI 1.0 layout ({} bytes)", size,
                    kDescriptorMinSize));
  }
  STAGEHOST_RETURN_IF_ERROR(CheckAbiVersion(d->abi_major, d->abi_minor, host_major, host_minor));
  if (size < kDescriptorMinSize) {
    return PluginError(
        fmt::format("descriptor struct_size {} is smaller than the ABI 1.0 layout ({} bytes)", size,
                    kDescriptorMinSize));
  }
  if (d->create == nullptr) return PluginError("descriptor member 'create' is NULL");
  if (d->run == nullptr) return PluginError("descriptor member 'run' is NULL");
  if (d->destroy == nullptr) return PluginError("descriptor member 'destroy' is NULL");

  PluginInfo info;
  info.name = StringMember(d->name);
  info.version = StringMember(d->version);
  info.description = StringMember(d->description);
  info.vendor = StringMember(d->vendor);
  info.license = StringMember(d->license);
  info.config_schema_json = StringMember(d->config_schema_json);
  info.abi_major = d->abi_major;
  info.abi_minor = d->abi_minor;
  info.supports_request_cancel = d->request_cancel != nullptr;

  if (!IsValidPluginName(info.name)) {
    return PluginError(fmt::format(
        "invalid plugin name \"{}\": must match [a-z0-9][a-z0-9._-]* (at most 64 characters)",
        info.name));
  }
  if (!IsValidSemver(info.version)) {
    return PluginError(
        fmt::format("plugin {}: invalid plugin version \"{}\": not semver (e.g. 1.4.0)", info.name,
                    info.version));
  }
  // A plugin may put any bit pattern there; loading it as the enum type would be undefined
  // behaviour for values outside the enum's range, so read the raw integer.
  std::underlying_type_t<stagehost_stage_type> raw_stage;
  std::memcpy(&raw_stage, &d->stage_type, sizeof(raw_stage));
  switch (raw_stage) {
    case STAGEHOST_STAGE_UNIT_TEST:
    case STAGEHOST_STAGE_MODEL_VALIDATION:
    case STAGEHOST_STAGE_SECURITY_SCAN:
    case STAGEHOST_STAGE_DEPLOY:
      info.stage_type = static_cast<stagehost_stage_type>(raw_stage);
      break;
    default:
      return PluginError(fmt::format("plugin {}: unknown stage type {}", info.name,
                                     static_cast<int64_t>(raw_stage)));
  }
  for (auto [field, value] :
       {std::pair<const char*, const std::string*>{"description", &info.description},
        {"vendor", &info.vendor},
        {"license", &info.license}}) {
    if (value->empty()) {
      return PluginError(
          fmt::format("plugin {}: descriptor field '{}' is empty", info.name, field));
    }
  }
  if (info.config_schema_json.empty()) {
    return PluginError(
        fmt::format("plugin {}: invalid config schema: config_schema_json is empty", info.name));
  }
  Result<ConfigSchema> schema = ConfigSchema::Parse(info.config_schema_json);
  if (!schema.ok()) {
    return PluginError(
        fmt::format("plugin {}: invalid config schema: {}", info.name, schema.status().message()));
  }
  return info;
}

}  // namespace stagehost
