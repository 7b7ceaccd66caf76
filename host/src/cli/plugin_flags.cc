// Trust-policy and worker flags, with their environment fallbacks.
#include "cli/plugin_flags.h"

#include <cstdlib>

namespace stagehost::cli {

void AddPluginFlags(CLI::App* cmd, PluginFlags& flags) {
  cmd->add_option("--allow-list", flags.allow_list,
                  "JSON file {\"plugin-name\": \"sha256\", ...}: only these plugin files load")
      ->envname("STAGEHOST_ALLOW_LIST");
  cmd->add_option("--trusted-key", flags.trusted_keys,
                  "Ed25519 public key (PEM); when given, every plugin needs a valid <file>.sig")
      ->envname("STAGEHOST_TRUSTED_KEYS")
      ->delimiter(':');
  cmd->add_option("--memory-limit", flags.memory_limit_mib,
                  "Address-space limit of the plugin's worker process, in MiB (0 = none)");
}

Result<CatalogOptions> MakeCatalogOptions(const PluginFlags& flags) {
  CatalogOptions options;
  options.search_path = DefaultPluginSearchPath();
  std::optional<std::filesystem::path> allow_list;
  if (!flags.allow_list.empty()) allow_list = flags.allow_list;
  std::vector<std::filesystem::path> keys(flags.trusted_keys.begin(), flags.trusted_keys.end());
  STAGEHOST_ASSIGN_OR_RETURN(options.trust, LoadTrustPolicy(allow_list, keys));
  options.worker.memory_limit_bytes = flags.memory_limit_mib << 20;
  return options;
}

}  // namespace stagehost::cli
