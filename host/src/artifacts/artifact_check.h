// Checks a file a plugin announced through artifact_emit (plugin-abi.md §12) before it is recorded.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "util/status.h"

namespace stagehost {

// An artifact the host has checked and hashed itself; a plugin's own digest is never trusted.
struct ArtifactRecord {
  std::string rel_path;  // lexically normalised, relative to the artifact directory
  std::string name;
  std::string media_type;
  uint64_t size = 0;
  std::string sha256;  // lowercase hex of exactly the bytes that were measured
};

// Accepts `rel_path` only if it names a regular file inside `artifact_dir` both lexically and after
// resolving symlinks (symlinks that stay inside are fine). Refuses empty, absolute and NUL-bearing
// paths, escapes through "..", symlinked files or directories, and FIFOs, devices, sockets and
// directories, without blocking on a FIFO. The file is opened once; its location is re-checked on
// the open fd, then it is measured and hashed through that fd, so a plugin swapping paths while the
// host checks cannot make it read a file from outside. InvalidArgument for refusals, NotFound when
// nothing exists at the path.
Result<ArtifactRecord> CheckArtifact(const std::filesystem::path& artifact_dir,
                                     std::string_view rel_path, std::string_view name,
                                     std::string_view media_type);

}  // namespace stagehost
