// Two-pass checked zip extraction: every entry judged from the headers before anything is written.
#include "artifacts/safe_extract.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <vector>

#include "artifacts/archive_library.h"
#include "util/file_type.h"
#include "util/unique_fd.h"

namespace stagehost::artifacts {
namespace fs = std::filesystem;
namespace {

std::string Refused(std::string_view entry, std::string_view why) {
  return fmt::format("archive entry '{}' refused: {}", entry, why);
}

// Entry path components with "." and empty ones dropped; refuses absolute paths and "..".
Result<std::vector<std::string>> EntryParts(std::string_view name) {
  if (name.starts_with("/")) return InvalidArgument(Refused(name, "absolute path"));
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part == "..") return InvalidArgument(Refused(name, "'..' component leaves the project"));
    if (!part.empty() && part != ".") parts.emplace_back(part);
    start = slash + 1;
  }
  return parts;
}

std::string JoinParts(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count; ++i) out += (i ? "/" : "") + parts[i];
  return out;
}

// A symlink at `parts` pointing at `target` must stay inside the project, lexically.
Status CheckLinkTarget(std::string_view name, const std::vector<std::string>& parts,
                       std::string_view target) {
  if (target.empty()) return InvalidArgument(Refused(name, "symlink with an empty target"));
  if (target.starts_with("/")) {
    return InvalidArgument(Refused(name, fmt::format("symlink to absolute path '{}'", target)));
  }
  int64_t depth = static_cast<int64_t>(parts.size()) - 1;  // the link's directory
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view part = target.substr(start, slash - start);
    if (part == "..") {
      if (--depth < 0) {
        return InvalidArgument(
            Refused(name, fmt::format("symlink target '{}' leaves the project", target)));
      }
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = slash + 1;
  }
  return Status::Ok();
}

struct Reader {
  struct archive* a = Archive().read_new();
  ~Reader() {
    if (a != nullptr) Archive().read_free(a);
  }
};

Status OpenReader(Reader& reader, int fd) {
  if (lseek(fd, 0, SEEK_SET) != 0) return ErrnoStatus("rewinding the archive", errno);
  // The seekable zip reader trusts the central directory, as unzip does; it needs a regular file.
  Archive().read_support_format_zip_seekable(reader.a);
  if (Archive().read_open_fd(reader.a, fd, 64 * 1024) != ARCHIVE_OK) {
    return InvalidArgument(
        fmt::format("not a readable zip archive: {}", Archive().error_string(reader.a)));
  }
  return Status::Ok();
}

struct CheckedEntry {
  std::string name;
  std::vector<std::string> parts;
  mode_t type = 0;
};

// Everything decidable from the headers: names, types, link targets, links in the path, limits.
Status CheckEntry(archive_entry* entry, const ExtractLimits& limits, std::set<std::string>& links,
                  uint64_t& count, uint64_t& declared, CheckedEntry* out) {
  const char* raw = Archive().entry_pathname(entry);
  if (raw == nullptr) raw = Archive().entry_pathname_utf8(entry);
  if (raw == nullptr) return InvalidArgument("archive entry with an unreadable name");
  out->name = raw;
  STAGEHOST_ASSIGN_OR_RETURN(out->parts, EntryParts(out->name));
  if (++count > limits.max_entries) {
    return InvalidArgument(Refused(
        out->name, fmt::format("the archive has more than {} entries", limits.max_entries)));
  }
  if (Archive().entry_hardlink(entry) != nullptr) {
    return InvalidArgument(Refused(out->name, "hard link"));
  }
  out->type = Archive().entry_filetype(entry);
  if (out->type != AE_IFREG && out->type != AE_IFDIR && out->type != AE_IFLNK) {
    return InvalidArgument(Refused(out->name, FileTypeName(out->type)));
  }
  for (size_t n = 1; n < out->parts.size(); ++n) {
    if (links.count(JoinParts(out->parts, n))) {
      return InvalidArgument(Refused(
          out->name,
          fmt::format("goes through symlink '{}' of the archive", JoinParts(out->parts, n))));
    }
  }
  if (out->type == AE_IFLNK) {
    const char* target = Archive().entry_symlink(entry);
    STAGEHOST_RETURN_IF_ERROR(CheckLinkTarget(out->name, out->parts, target ? target : ""));
    if (out->parts.empty()) return InvalidArgument(Refused(out->name, "symlink as the root"));
    links.insert(JoinParts(out->parts, out->parts.size()));
  }
  if (out->type == AE_IFREG && Archive().entry_size_is_set(entry)) {
    declared += static_cast<uint64_t>(std::max<la_int64_t>(0, Archive().entry_size(entry)));
    if (declared > limits.max_total_bytes) {
      return InvalidArgument(Refused(
          out->name, fmt::format("the archive expands past {} bytes", limits.max_total_bytes)));
    }
  }
  return Status::Ok();
}

// Opens (creating as needed) the directory holding the entry, one O_NOFOLLOW step at a time.
Result<UniqueFd> OpenParent(int root, const CheckedEntry& e) {
  UniqueFd dir(fcntl(root, F_DUPFD_CLOEXEC, 0));
  for (size_t i = 0; i + 1 < e.parts.size(); ++i) {
    if (mkdirat(dir.get(), e.parts[i].c_str(), 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(fmt::format("creating {}", JoinParts(e.parts, i + 1)), errno);
    }
    UniqueFd next(
        openat(dir.get(), e.parts[i].c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next.valid()) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return InvalidArgument(
            Refused(e.name, fmt::format("'{}' on disk is a symlink or not a directory",
                                        JoinParts(e.parts, i + 1))));
      }
      return ErrnoStatus(fmt::format("opening {}", JoinParts(e.parts, i + 1)), errno);
    }
    dir = std::move(next);
  }
  return dir;
}

// Removes a non-directory leaf so a new entry replaces it instead of writing through it.
Status ClearLeaf(int dir, const CheckedEntry& e) {
  const char* leaf = e.parts.back().c_str();
  struct stat st;
  if (fstatat(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) != 0) return Status::Ok();
  if (S_ISDIR(st.st_mode)) {
    return InvalidArgument(Refused(e.name, "a directory of that name exists on disk"));
  }
  if (unlinkat(dir, leaf, 0) != 0) return ErrnoStatus(fmt::format("replacing {}", e.name), errno);
  return Status::Ok();
}

Status WriteEntry(struct archive* a, archive_entry* entry, int root, const CheckedEntry& e,
                  const ExtractLimits& limits, ExtractSummary* summary) {
  if (e.parts.empty()) return Status::Ok();  // "./": the project directory itself
  STAGEHOST_ASSIGN_OR_RETURN(UniqueFd dir, OpenParent(root, e));
  const char* leaf = e.parts.back().c_str();
  if (e.type == AE_IFDIR) {
    if (mkdirat(dir.get(), leaf, 0755) != 0 && errno != EEXIST) {
      return ErrnoStatus(fmt::format("creating {}", e.name), errno);
    }
    struct stat st;
    if (fstatat(dir.get(), leaf, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode)) {
      return InvalidArgument(Refused(e.name, "a non-directory of that name exists on disk"));
    }
  } else if (e.type == AE_IFLNK) {
    STAGEHOST_RETURN_IF_ERROR(ClearLeaf(dir.get(), e));
    if (symlinkat(Archive().entry_symlink(entry), dir.get(), leaf) != 0) {
      return ErrnoStatus(fmt::format("creating symlink {}", e.name), errno);
    }
  } else {
    STAGEHOST_RETURN_IF_ERROR(ClearLeaf(dir.get(), e));
    UniqueFd out(
        openat(dir.get(), leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out.valid()) return ErrnoStatus(fmt::format("creating {}", e.name), errno);
    std::vector<char> buffer(256 * 1024);
    while (true) {
      la_ssize_t n = Archive().read_data(a, buffer.data(), buffer.size());
      if (n < 0) {
        return InvalidArgument(
            fmt::format("archive entry '{}': {}", e.name, Archive().error_string(a)));
      }
      if (n == 0) break;
      summary->bytes += static_cast<uint64_t>(n);
      // The declared sizes were checked; this catches an entry that inflates past its header.
      if (summary->bytes > limits.max_total_bytes) {
        return InvalidArgument(Refused(
            e.name, fmt::format("the archive expands past {} bytes", limits.max_total_bytes)));
      }
      for (la_ssize_t off = 0; off < n;) {
        ssize_t put = write(out.get(), buffer.data() + off, static_cast<size_t>(n - off));
        if (put < 0 && errno == EINTR) continue;
        if (put < 0) return ErrnoStatus(fmt::format("writing {}", e.name), errno);
        off += put;
      }
    }
    fchmod(out.get(), Archive().entry_perm(entry) & 0777);
    struct timespec times[2] = {{0, UTIME_OMIT},
                                {Archive().entry_mtime(entry), Archive().entry_mtime_nsec(entry)}};
    futimens(out.get(), times);
  }
  ++summary->entries;
  return Status::Ok();
}

}  // namespace

Result<ExtractSummary> ExtractArchiveSafely(int archive_fd, const fs::path& project_dir,
                                            const ExtractLimits& limits) {
  STAGEHOST_RETURN_IF_ERROR(LibArchive().status());
  {
    Reader reader;
    STAGEHOST_RETURN_IF_ERROR(OpenReader(reader, archive_fd));
    std::set<std::string> links;
    uint64_t count = 0, declared = 0;
    archive_entry* entry;
    int rc;
    while ((rc = Archive().read_next_header(reader.a, &entry)) == ARCHIVE_OK ||
           rc == ARCHIVE_WARN) {
      CheckedEntry checked;
      STAGEHOST_RETURN_IF_ERROR(CheckEntry(entry, limits, links, count, declared, &checked));
      Archive().read_data_skip(reader.a);
    }
    if (rc != ARCHIVE_EOF) {
      return InvalidArgument(
          fmt::format("damaged zip archive: {}", Archive().error_string(reader.a)));
    }
  }
  UniqueFd root(open(project_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return ErrnoStatus(fmt::format("opening {}", project_dir.string()), errno);
  Reader reader;
  STAGEHOST_RETURN_IF_ERROR(OpenReader(reader, archive_fd));
  std::set<std::string> links;
  uint64_t count = 0, declared = 0;
  ExtractSummary summary;
  archive_entry* entry;
  int rc;
  while ((rc = Archive().read_next_header(reader.a, &entry)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
    CheckedEntry checked;
    STAGEHOST_RETURN_IF_ERROR(CheckEntry(entry, limits, links, count, declared, &checked));
    STAGEHOST_RETURN_IF_ERROR(WriteEntry(reader.a, entry, root.get(), checked, limits, &summary));
  }
  if (rc != ARCHIVE_EOF) {
    return InvalidArgument(
        fmt::format("damaged zip archive: {}", Archive().error_string(reader.a)));
  }
  return summary;
}

}  // namespace stagehost::artifacts
