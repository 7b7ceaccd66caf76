// BuildArchive: stages a job artifact on disk once (zip, gzip or raw) from GitLab-style path globs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::artifacts {

// The artifact formats GitLab is certain to accept (gitlab-runner-api.md §10).
enum class ArchiveFormat { kZip, kGzip, kRaw };

// "zip" | "gzip" | "raw"; InvalidArgument otherwise (zipzstd/tarzstd are not supported yet).
Result<ArchiveFormat> ParseArchiveFormat(std::string_view name);
std::string_view ArchiveFormatName(ArchiveFormat format);

// What to archive, as in a job payload's `artifacts[]` entry (gitlab-runner-api.md §5).
struct ArchiveSpec {
  std::filesystem::path project_dir;
  // Globs relative to project_dir: `*`, `?` and `[...]` stay inside one path component, a `**`
  // component matches any number of directories (zero included). A matched directory brings its
  // whole subtree. Absolute patterns and patterns that leave the project are refused.
  std::vector<std::string> paths;
  // Same syntax; a file is left out when a pattern matches it or one of its parent directories.
  std::vector<std::string> exclude;
  // Adds the files git does not track (`git ls-files --others --exclude-standard`, so ignored files
  // stay out); every file when project_dir is not inside a git work tree.
  bool untracked = false;
  ArchiveFormat format = ArchiveFormat::kZip;
  // The staged file to create (replaced if present); its directory must exist.
  std::filesystem::path output;
  // Deflate level for compressible zip entries; incompressible ones are always stored.
  int compression_level = 1;
};

struct StagedArchive {
  std::filesystem::path path;
  uint64_t size = 0;
  std::string sha256;           // lowercase hex of the staged file
  uint64_t entries = 0;         // zip: files, directories and symlinks; gzip: members; raw: 1
  uint64_t stored_entries = 0;  // zip entries written without compression (incompressible)
  // gzip/raw: the project-relative path of the (first) file.
  std::string single_file;
};

// Collects the matching entries, then writes them in sorted order, one at a time, with a bounded
// buffer: memory does not grow with the artifact. Zip entries whose first 64 KiB deflate (zlib
// level 1) to more than 95 % of their size are stored, the rest deflated at `compression_level`.
// Symlinks are stored as links and never followed; a pattern that reaches outside the project
// (through `..` or a symlinked directory) is refused. raw needs exactly one matched regular file;
// gzip writes one member per matched regular file (named by its project path), in sorted order.
// NotFound names the patterns when nothing matched; InvalidArgument for refusals; errors name
// the file. On error the partial output is removed.
Result<StagedArchive> BuildArchive(const ArchiveSpec& spec);

// The entries BuildArchive would write: project-relative paths, sorted, directories without a
// trailing slash. Exposed for tests and for a dry run.
Result<std::vector<std::string>> CollectArchiveEntries(const ArchiveSpec& spec);

// True when `path` (relative, '/'-separated) matches `pattern` with the syntax above.
bool GlobMatch(std::string_view pattern, std::string_view path);

// True when zlib level 1 shrinks `sample` to at most 95 % of its size (empty: false).
bool LooksCompressible(std::string_view sample);

}  // namespace stagehost::artifacts
