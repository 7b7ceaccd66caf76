// Negotiation and identity checks on a plugin descriptor (plugin-abi.md §13 steps 6-8).
#pragma once

#include <stagehost/plugin_abi.h>

#include <cstddef>

#include "plugin/plugin_info.h"
#include "util/status.h"

namespace stagehost {

// The ABI this host implements.
inline constexpr uint16_t kHostAbiMajor = STAGEHOST_ABI_MAJOR;
inline constexpr uint16_t kHostAbiMinor = STAGEHOST_ABI_MINOR;

// Size of the ABI 1.0 descriptor: the smallest the host accepts.
inline constexpr size_t kDescriptorMinSize =
    offsetof(stagehost_plugin_descriptor, destroy) + sizeof(stagehost_destroy_fn);

// Checks the version rule (majors equal, plugin minor <= host minor), the descriptor size, the
// required members, the identity fields and that the config schema parses; returns a copy of the
// identity. `descriptor` may be NULL (the plugin declined). Never reads past struct_size.
Result<PluginInfo> CheckDescriptor(const stagehost_plugin_descriptor* descriptor,
                                   uint16_t host_major = kHostAbiMajor,
                                   uint16_t host_minor = kHostAbiMinor);

// The version rule alone, with the message the user sees.
Status CheckAbiVersion(uint16_t plugin_major, uint16_t plugin_minor, uint16_t host_major,
                       uint16_t host_minor);

bool IsValidPluginName(std::string_view name);
bool IsValidSemver(std::string_view version);

}  // namespace stagehost
