// Dependency download with token-safe redirects, then a two-pass checked zip extraction.
#include "gitlab/runner/dependency_download.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "artifacts/archive_library.h"
#include "util/file_type.h"

namespace stagehost::gitlab {
namespace fs = std::filesystem;
using artifacts::Archive;
namespace {

constexpr int kMaxHops = 5;

// "scheme://host:port" in lower case, or "" for a URL without a scheme.
std::string Origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return "";
  size_t end = url.find_first_of("/?#", scheme + 3);
  std::string origin(url.substr(0, end == std::string_view::npos ? url.size() : end));
  std::transform(origin.begin(), origin.end(), origin.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return origin;
}

std::string Resolve(const std::string& current, const std::string& location) {
  if (location.find("://") != std::string::npos) return location;
  if (location.starts_with("//")) return current.substr(0, current.find("://") + 1) + location;
  std::string origin = current.substr(0, Origin(current).size());
  if (location.starts_with("/")) return origin + location;
  std::string path = current.substr(origin.size());
  path = path.substr(0, path.find_first_of("?#"));
  return origin + path.substr(0, path.rfind('/') + 1) + location;
}

bool Pause(std::chrono::milliseconds delay, const std::atomic<bool>* abort) {
  auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (abort != nullptr && abort->load()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - std::chrono::steady_clock::now(), std::chrono::milliseconds(100)));
  }
  return abort == nullptr || !abort->load();
}

Result<UniqueFd> TempFile(const fs::path& dir) {
  // O_TMPFILE: never visible by name, gone with the fd even if the host is killed.
  UniqueFd fd(open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd.valid()) return fd;
  std::string name = (dir / "stagehost-dependency-XXXXXX").string();
  fd.Reset(mkostemp(name.data(), O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(fmt::format("temporary file in {}", dir.string()), errno);
  unlink(name.c_str());
  return fd;
}

std::string Excerpt(int fd, uint64_t size) {
  char buffer[200];
  ssize_t n = pread(fd, buffer, std::min<uint64_t>(size, sizeof buffer), 0);
  if (n <= 0) return "";
  std::string text(buffer, static_cast<size_t>(n));
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return ": " + text;
}

// ---- extraction checks --------------------------------------------------------------------------

std::string Refused(std::string_view entry, std::string_view why) {
  return fmt::format("dependency archive entry '{}' refused: {}", entry, why);
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
  if (lseek(fd, 0, SEEK_SET) != 0) return ErrnoStatus("rewinding the dependency archive", errno);
  // The seekable zip reader trusts the central directory, as unzip does; it needs a regular file.
  Archive().read_support_format_zip_seekable(reader.a);
  if (Archive().read_open_fd(reader.a, fd, 64 * 1024) != ARCHIVE_OK) {
    return InvalidArgument(fmt::format("dependency archive is not a readable zip: {}",
                                       Archive().error_string(reader.a)));
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
  if (raw == nullptr) return InvalidArgument("dependency archive entry with an unreadable name");
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
            fmt::format("dependency archive entry '{}': {}", e.name, Archive().error_string(a)));
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

Result<DownloadedArchive> DownloadDependency(net::HttpClient& http,
                                             const DependencyDownload& download) {
  const std::string what =
      fmt::format("artifacts of dependency {} (job {})",
                  download.name.empty() ? "?" : download.name, download.dependency_id);
  STAGEHOST_ASSIGN_OR_RETURN(UniqueFd fd, TempFile(download.temp_dir));
  const std::string gitlab_origin = Origin(download.base);
  DownloadedArchive result;
  std::string failure;
  for (int attempt = 0; attempt <= download.retries; ++attempt) {
    if (attempt > 0 && !Pause(download.retry_delay, download.abort)) {
      return Cancelled(what + ": aborted");
    }
    ++result.attempts;
    std::string url = fmt::format("{}jobs/{}/artifacts", download.base, download.dependency_id);
    if (attempt == 0 && download.direct_download) url += "?direct_download=true";
    bool redirected = false;
    for (int hop = 0;; ++hop) {
      uint64_t written = 0;
      bool too_big = false;
      int write_errno = 0;
      if (ftruncate(fd.get(), 0) != 0) return ErrnoStatus("truncating the download file", errno);
      net::Request request;
      request.url = url;
      request.timeouts = download.timeouts;
      // The token is GitLab's; a presigned object-storage URL carries its own authorisation.
      if (Origin(url) == gitlab_origin) request.headers.push_back({"JOB-TOKEN", download.token});
      request.on_body = [&](std::string_view chunk) {
        if (written + chunk.size() > download.max_archive_bytes) {
          too_big = true;
          return false;
        }
        for (size_t off = 0; off < chunk.size();) {
          ssize_t put = pwrite(fd.get(), chunk.data() + off, chunk.size() - off,
                               static_cast<off_t>(written + off));
          if (put < 0 && errno == EINTR) continue;
          if (put < 0) {
            write_errno = errno;
            return false;
          }
          off += static_cast<size_t>(put);
        }
        written += chunk.size();
        return true;
      };
      Result<net::Response> sent = http.Send(request);
      if (too_big) {
        return InvalidArgument(fmt::format("{}: the archive is larger than the {} byte limit", what,
                                           download.max_archive_bytes));
      }
      if (write_errno != 0) return ErrnoStatus(what + ": spooling to disk", write_errno);
      if (!sent.ok()) {
        if (sent.status().code() == StatusCode::kCancelled) return sent.status().WithContext(what);
        failure = sent.status().message();
        break;
      }
      long code = sent->status;
      if (code >= 200 && code < 300) {
        std::optional<std::string> length = sent->Header("Content-Length");
        if (length && *length != std::to_string(written)) {
          failure = fmt::format("body of {} bytes, Content-Length {}", written, *length);
          break;
        }
        result.fd = std::move(fd);
        result.size = written;
        result.redirected = redirected;
        return result;
      }
      std::optional<std::string> location = sent->Header("Location");
      if ((code == 301 || code == 302 || code == 303 || code == 307 || code == 308) && location) {
        if (hop + 1 >= kMaxHops) {
          failure = fmt::format("more than {} redirects", kMaxHops);
          break;
        }
        url = Resolve(url, *location);
        redirected = true;
        continue;
      }
      std::string body = Excerpt(fd.get(), written);
      if (!redirected && (code == 401 || code == 403)) {
        return PermissionDenied(
            fmt::format("{}: {} from GitLab (token not allowed to read them){}", what, code, body));
      }
      if (!redirected && code == 404) {
        return NotFound(fmt::format("{}: 404, the job has no archive artifact{}", what, body));
      }
      failure =
          fmt::format("HTTP {} from {}{}", code, redirected ? "object storage" : "GitLab", body);
      break;
    }
  }
  return Unavailable(
      fmt::format("{}: failed after {} tries, last: {}", what, result.attempts, failure));
}

Result<ExtractSummary> ExtractArchiveSafely(int archive_fd, const fs::path& project_dir,
                                            const ExtractLimits& limits) {
  STAGEHOST_RETURN_IF_ERROR(artifacts::LibArchive().status());
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
          fmt::format("dependency archive is damaged: {}", Archive().error_string(reader.a)));
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
        fmt::format("dependency archive is damaged: {}", Archive().error_string(reader.a)));
  }
  return summary;
}

Result<ExtractSummary> FetchDependency(net::HttpClient& http, const DependencyDownload& download,
                                       const fs::path& project_dir, const ExtractLimits& limits) {
  STAGEHOST_ASSIGN_OR_RETURN(DownloadedArchive archive, DownloadDependency(http, download));
  Result<ExtractSummary> extracted = ExtractArchiveSafely(archive.fd.get(), project_dir, limits);
  if (!extracted.ok()) {
    return extracted.status().WithContext(
        fmt::format("dependency {} (job {})", download.name, download.dependency_id));
  }
  return extracted;
}

}  // namespace stagehost::gitlab
