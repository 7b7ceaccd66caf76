// PluginCatalog: finds plugin files on the search path and describes each in a worker.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugin/file_trust.h"
#include "plugin/plugin_info.h"
#include "plugin/worker_process.h"
#include "util/status.h"

namespace stagehost {

// STAGEHOST_PLUGIN_PATH (colon-separated), then <dir of the binary>/../lib/stagehost/plugins —
// which is also where the build tree puts in-tree plugins.
std::vector<std::filesystem::path> DefaultPluginSearchPath();

struct CatalogOptions {
  std::vector<std::filesystem::path> search_path;
  TrustPolicy trust;
  WorkerOptions worker;
  // kAlways for listings; a run only needs the digest of the plugin it selects (EnsureDigest).
  DigestMode digests = DigestMode::kAlways;
};

// One plugin file and what became of it: described (info set) or refused (error set).
struct CatalogEntry {
  std::filesystem::path path;
  size_t search_rank = 0;  // index of the search-path entry it was found in: lower wins
  std::optional<PluginInfo> info;
  Status error;
  // Kept alive after describing, so the selected plugin runs in the worker that already loaded
  // and checked it: one spawn per stage.
  std::unique_ptr<WorkerProcess> worker;
  // The verified file the worker loaded, for a digest computed later over the same bytes.
  UniqueFd fd;
};

// Fills entry.info->sha256 from the entry's verified fd if it was deferred.
Status EnsureDigest(CatalogEntry& entry);

class PluginCatalog {
 public:
  // Verifies every candidate file (permissions, digest, signature), then loads each in its own
  // worker, all in parallel. Duplicate names after the first are refused.
  static PluginCatalog Scan(const CatalogOptions& options);

  const std::vector<CatalogEntry>& entries() const { return entries_; }
  const std::vector<std::filesystem::path>& search_path() const { return search_path_; }
  // Described plugins of the same stage type that `chosen` shadows, for a note to the user.
  std::vector<const CatalogEntry*> ShadowedBy(const CatalogEntry& chosen) const;

  // Picks the plugin for `stage`, a stage type or a plugin name, optionally narrowed by an
  // explicit plugin name; the other workers are told to quit. When several plugins implement a
  // stage type, the one found earliest on the search path wins, as with PATH (so
  // STAGEHOST_PLUGIN_PATH overrides the plugins beside the binary); several in the same folder
  // are ambiguous.
  Result<CatalogEntry*> Select(const std::string& stage, const std::optional<std::string>& plugin);
  // Ends every worker that is still waiting.
  void QuitAll();

 private:
  std::vector<CatalogEntry> entries_;
  std::vector<std::filesystem::path> search_path_;
};

}  // namespace stagehost
