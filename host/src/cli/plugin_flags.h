// Flags shared by the subcommands that load plugins: trust policy and worker limits.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "plugin/plugin_catalog.h"
#include "util/status.h"

namespace stagehost::cli {

struct PluginFlags {
  std::string allow_list;  // --allow-list, or STAGEHOST_ALLOW_LIST
  std::vector<std::string>
      trusted_keys;               // --trusted-key, or STAGEHOST_TRUSTED_KEYS (colon-separated)
  uint64_t memory_limit_mib = 0;  // --memory-limit
};

void AddPluginFlags(CLI::App* cmd, PluginFlags& flags);
Result<CatalogOptions> MakeCatalogOptions(const PluginFlags& flags);

}  // namespace stagehost::cli
