// archive_reader.cc -- libarchive over a memory buffer (see archive_reader.h).
#include "archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace stagehost::security_scan {

bool LooksLikeArchive(std::string_view data) {
  if (data.size() >= 4 && data.substr(0, 4) == std::string_view("PK\x03\x04", 4)) return true;
  if (data.size() >= 6 && data.substr(0, 6) == std::string_view("7z\xBC\xAF\x27\x1C", 6))
    return true;
  if (data.size() >= 262 && data.substr(257, 5) == "ustar") return true;
  return false;
}

void ForEachArchiveEntry(
    std::string_view data, std::size_t max_entry_bytes,
    const std::function<void(const std::string&, std::string_view, bool)>& fn) {
  std::unique_ptr<struct archive, int (*)(struct archive*)> a(archive_read_new(),
                                                              archive_read_free);
  archive_read_support_format_zip(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_7zip(a.get());
  archive_read_support_filter_all(a.get());
  if (archive_read_open_memory(a.get(), data.data(), data.size()) != ARCHIVE_OK) {
    throw std::runtime_error(std::string("not a readable archive: ") +
                             archive_error_string(a.get()));
  }
  struct archive_entry* entry = nullptr;
  std::string buffer;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &entry);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
      throw std::runtime_error(std::string("corrupt archive: ") + archive_error_string(a.get()));
    }
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    const char* name = archive_entry_pathname(entry);
    buffer.clear();
    bool truncated = false;
    char chunk[65536];
    while (true) {
      const la_ssize_t n = archive_read_data(a.get(), chunk, sizeof chunk);
      if (n < 0) {
        throw std::runtime_error(std::string("corrupt archive entry ") + (name ? name : "?") +
                                 ": " + archive_error_string(a.get()));
      }
      if (n == 0) break;
      const std::size_t room = max_entry_bytes - std::min(max_entry_bytes, buffer.size());
      buffer.append(chunk, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
      if (static_cast<std::size_t>(n) > room) {
        truncated = true;
        break;
      }
    }
    fn(name ? name : "", buffer, truncated);
  }
}

}  // namespace stagehost::security_scan
