// Zips built entry by entry with libarchive, hostile ones included, for extraction tests.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "util/unique_fd.h"

namespace stagehost::testutil {

struct ZipEntry {
  std::string name;
  mode_t type = AE_IFREG;
  std::string data;  // file contents, or the symlink target
};

// Builds a zip in memory with libarchive: the test controls every name and type.
inline std::string MakeZip(const std::vector<ZipEntry>& entries) {
  std::string out;
  struct archive* a = archive_write_new();
  archive_write_set_format_zip(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](struct archive*, void* user, const void* data, size_t n) -> la_ssize_t {
        static_cast<std::string*>(user)->append(static_cast<const char*>(data), n);
        return static_cast<la_ssize_t>(n);
      },
      nullptr);
  for (const auto& e : entries) {
    archive_entry* entry = archive_entry_new();
    archive_entry_set_pathname(entry, e.name.c_str());
    archive_entry_set_filetype(entry, e.type);
    archive_entry_set_perm(entry, 0644);
    if (e.type == AE_IFLNK) archive_entry_set_symlink(entry, e.data.c_str());
    if (e.type == AE_IFREG) archive_entry_set_size(entry, static_cast<la_int64_t>(e.data.size()));
    EXPECT_GE(archive_write_header(a, entry), ARCHIVE_WARN) << archive_error_string(a);
    if (e.type == AE_IFREG) archive_write_data(a, e.data.data(), e.data.size());
    archive_entry_free(entry);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

// libarchive's zip writer refuses FIFOs and devices, as it should; a hostile archive can still
// carry one in the Unix mode of the central directory (external attributes, high 16 bits).
inline std::string WithUnixMode(std::string zip, const std::string& name, uint32_t mode) {
  for (size_t at = zip.find("PK\x01\x02"); at != std::string::npos;
       at = zip.find("PK\x01\x02", at + 4)) {
    uint16_t name_length = static_cast<uint8_t>(zip[at + 28]) | static_cast<uint8_t>(zip[at + 29])
                                                                    << 8;
    if (zip.compare(at + 46, name_length, name) != 0) continue;
    zip[at + 5] = 3;  // made by Unix, so the mode is read
    uint32_t attributes = mode << 16;
    for (int i = 0; i < 4; ++i) zip[at + 38 + i] = static_cast<char>(attributes >> (8 * i));
  }
  return zip;
}

inline UniqueFd FdWith(const std::string& bytes) {
  UniqueFd fd(open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  EXPECT_EQ(write(fd.get(), bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  return fd;
}

}  // namespace stagehost::testutil
