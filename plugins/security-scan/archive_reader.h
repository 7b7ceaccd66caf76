// archive_reader.h -- reads the entries of an in-memory archive (zip, tar, 7z) with libarchive, for
// model containers (PyTorch checkpoints, .npz) and zipped OSV databases.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace stagehost::security_scan {

// True for the magic numbers of zip, 7z and (ustar) tar.
bool LooksLikeArchive(std::string_view data);

// Calls `fn(name, contents)` for every regular entry of at most `max_entry_bytes` bytes (larger
// entries are passed with their first `max_entry_bytes` bytes and `truncated` = true).
// Throws std::runtime_error("<archive error>") when the data is not a readable archive.
void ForEachArchiveEntry(std::string_view data, std::size_t max_entry_bytes,
                         const std::function<void(const std::string& name,
                                                  std::string_view contents, bool truncated)>& fn);

}  // namespace stagehost::security_scan
