// Local job cache: a payload's cache[] entries restored before the script, saved after it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::gitlab {

enum class CachePolicy { kPullPush, kPull, kPush };
enum class CacheWhen { kOnSuccess, kOnFailure, kAlways };

// One `cache[]` entry (gitlab-runner-api.md §5). Keys and paths arrive with variables already
// expanded: GitLab expands most of them, the caller the rest.
struct CacheSpec {
  std::string key = "default";
  std::vector<std::string> paths;  // globs relative to the project, `**` = any directories
  bool untracked = false;          // add the files git does not track (ignored files stay out)
  CachePolicy policy = CachePolicy::kPullPush;
  CacheWhen when = CacheWhen::kOnSuccess;
  std::vector<std::string> fallback_keys;  // tried in order when `key` has no archive
};

// Parses the payload's `cache` (null or an array). Unknown policy/when values are
// kInvalidConfig naming the entry; an empty key becomes "default", as GitLab's own default.
Result<std::vector<CacheSpec>> ParseCacheSpecs(const nlohmann::json& cache);

// The directory name for a key: surrounding whitespace trimmed, then every byte outside
// [A-Za-z0-9._-] percent-encoded, so no '/' or '\' survives and distinct keys stay distinct.
// kInvalidArgument for an empty key, "." and "..", and names over 255 bytes.
Result<std::string> SanitizeCacheKey(std::string_view key);

// Where the archives live and where they are extracted.
struct LocalCache {
  std::filesystem::path cache_dir;           // the runner's cache_dir
  std::string project;                       // e.g. job_info.project_full_path: "group/demo"
  std::filesystem::path project_dir;         // the job's checkout
  uint64_t max_extract_bytes = 10ULL << 30;  // a bigger archive is refused, not half-extracted
};

// <cache_dir>/<project, each component sanitised>/<sanitised key>/cache.zip.
Result<std::filesystem::path> CacheArchivePath(const LocalCache& cache, std::string_view key);

using CacheLog = std::function<void(std::string_view)>;

// Pull: skipped for the push policy. Tries `key`, then each fallback key: the first archive that
// exists is extracted into project_dir with the dependency extractor's checks (no absolute
// paths, no `..`, no writing through symlinks, no links leaving the project). Returns the key
// that was restored, nullopt when none had an archive; a refused or damaged archive is an error
// (after the remaining keys were tried). Lines like gitlab-runner's go to `log`.
Result<std::optional<std::string>> RestoreCache(const LocalCache& cache, const CacheSpec& spec,
                                                const CacheLog& log);

// Push: skipped for the pull policy and when `when` does not match the job's outcome. Archives
// `paths` and the untracked files (zip, like gitlab-runner's local cache) into a temporary file
// beside the archive and renames it over the old one, so a concurrent restore sees the old or the
// new archive whole. Returns whether an archive was written (false: skipped, or nothing matched).
Result<bool> SaveCache(const LocalCache& cache, const CacheSpec& spec, bool job_succeeded,
                       const CacheLog& log);

// Every entry in order. Cache failures never fail a job (as in gitlab-runner): each becomes a
// WARNING line in `log`. Return how many entries were restored / saved.
int RestoreCaches(const LocalCache& cache, const std::vector<CacheSpec>& specs,
                  const CacheLog& log);
int SaveCaches(const LocalCache& cache, const std::vector<CacheSpec>& specs, bool job_succeeded,
               const CacheLog& log);

}  // namespace stagehost::gitlab
