// ArchiveLibrary: libarchive, opened with dlopen on first use instead of linked into the binary.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include "util/status.h"

namespace stagehost::artifacts {

// Linking libarchive pulled about fifteen shared libraries (libxml2 and ICU, nettle, lzma, zstd,
// acl …) into every start of this binary, which every stage run, worker and custom-executor call
// pays; only the commands that archive or extract pay for it now, once (as net/curl_library.h).
//
// The functions used, named without their `archive_` prefix: archive_write_new is write_new.
// clang-format off
#define STAGEHOST_LIBARCHIVE_FUNCTIONS(X) \
  X(error_string) \
  X(entry_new) X(entry_free) X(entry_filetype) X(entry_hardlink) X(entry_mtime) \
  X(entry_mtime_nsec) X(entry_pathname) X(entry_pathname_utf8) X(entry_perm) \
  X(entry_set_filetype) X(entry_set_mtime) X(entry_set_pathname) X(entry_set_perm) \
  X(entry_set_size) X(entry_set_symlink) X(entry_size) X(entry_size_is_set) \
  X(entry_symlink) \
  X(read_new) X(read_free) X(read_data) X(read_data_skip) X(read_next_header) \
  X(read_open_fd) X(read_support_format_zip_seekable) \
  X(write_new) X(write_free) X(write_close) X(write_data) X(write_finish_entry) \
  X(write_header) X(write_open_fd) X(write_set_bytes_in_last_block) \
  X(write_set_format_option) X(write_set_format_zip) \
  X(write_zip_set_compression_deflate) X(write_zip_set_compression_store)
// clang-format on

struct ArchiveLibrary {
#define STAGEHOST_LIBARCHIVE_MEMBER(name) decltype(&::archive_##name) name;
  STAGEHOST_LIBARCHIVE_FUNCTIONS(STAGEHOST_LIBARCHIVE_MEMBER)
#undef STAGEHOST_LIBARCHIVE_MEMBER
};

// Opens libarchive.so.13 once per process (thread-safe). Fails with kUnavailable naming what is
// missing; the library is never closed.
Result<const ArchiveLibrary*> LibArchive();

// The loaded library, for code that runs only after LibArchive() succeeded (an entry point checks
// it first and returns its error); aborts otherwise, as that is a bug.
const ArchiveLibrary& Archive();

}  // namespace stagehost::artifacts
