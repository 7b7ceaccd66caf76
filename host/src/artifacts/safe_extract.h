// Extracting an untrusted zip (dependency artifacts, cache archives) without leaving its directory.
#pragma once

#include <cstdint>
#include <filesystem>

#include "util/status.h"

namespace stagehost::artifacts {

struct ExtractLimits {
  uint64_t max_total_bytes = 10ULL << 30;  // uncompressed bytes written
  uint64_t max_entries = 1'000'000;
};

struct ExtractSummary {
  uint64_t entries = 0;  // files, directories and symlinks created
  uint64_t bytes = 0;    // file bytes written
};

// Extracts the zip behind `archive_fd` into `project_dir`, refusing — with the entry's name —
// absolute paths, `..` components, entries whose path goes through a symlink (one from the
// archive or one already on disk), symlinks whose target leaves the project (absolute targets
// included), hard links, devices, FIFOs and sockets, and archives over `limits`. The whole
// archive is checked from its headers before anything is written; the on-disk symlink checks
// are repeated while writing (each directory is opened with O_NOFOLLOW), so a refusal found only
// then leaves the entries before it in place. Existing files are replaced, never written through.
// Permission bits are kept without setuid/setgid/sticky. kInvalidArgument for refusals.
Result<ExtractSummary> ExtractArchiveSafely(int archive_fd,
                                            const std::filesystem::path& project_dir,
                                            const ExtractLimits& limits);

}  // namespace stagehost::artifacts
