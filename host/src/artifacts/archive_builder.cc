// Artifact staging: glob expansion, untracked files from git, zip/gzip/raw writing via libarchive.
#include "artifacts/archive_builder.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <system_error>

#include "artifacts/archive_library.h"
#include "util/sha256.h"
#include "util/unique_fd.h"

extern char** environ;

namespace stagehost::artifacts {
namespace fs = std::filesystem;
namespace {

constexpr size_t kSampleSize = 64 * 1024;
constexpr size_t kCopyBuffer = 256 * 1024;

bool HasGlobMeta(std::string_view component) {
  return component.find_first_of("*?[") != std::string_view::npos;
}

std::vector<std::string> Split(std::string_view path) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) out.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

std::string Join(const std::vector<std::string>& parts, size_t count) {
  std::string out;
  for (size_t i = 0; i < count && i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  return out;
}

// Pattern components with "." dropped and ".." applied; refuses what leaves the project.
Result<std::vector<std::string>> NormalizePattern(std::string_view pattern) {
  if (pattern.empty()) return InvalidArgument("empty artifact path");
  if (pattern.front() == '/') {
    return InvalidArgument(
        fmt::format("artifact path '{}' is absolute; paths are relative to "
                    "the project directory",
                    pattern));
  }
  std::vector<std::string> out;
  for (std::string& part : Split(pattern)) {
    if (part == ".") continue;
    if (part == "..") {
      if (out.empty()) {
        return InvalidArgument(
            fmt::format("artifact path '{}' is outside the project directory", pattern));
      }
      out.pop_back();
      continue;
    }
    out.push_back(std::move(part));
  }
  return out;
}

bool MatchComponents(const std::vector<std::string>& pattern, size_t pi,
                     const std::vector<std::string>& path, size_t si) {
  while (pi < pattern.size()) {
    if (pattern[pi] == "**") {
      // Collapse runs of "**"; then try every number of skipped directories, zero included.
      while (pi + 1 < pattern.size() && pattern[pi + 1] == "**") ++pi;
      if (pi + 1 == pattern.size()) return true;
      for (size_t skip = si; skip <= path.size(); ++skip) {
        if (MatchComponents(pattern, pi + 1, path, skip)) return true;
      }
      return false;
    }
    if (si >= path.size()) return false;
    if (fnmatch(pattern[pi].c_str(), path[si].c_str(), 0) != 0) return false;
    ++pi;
    ++si;
  }
  return si == path.size();
}

std::string JoinPatterns(const std::vector<std::string>& patterns) {
  std::string out;
  for (const auto& p : patterns) out += (out.empty() ? "" : ", ") + p;
  return out;
}

class Collector {
 public:
  explicit Collector(const ArchiveSpec& spec) : spec_(spec), root_(spec.project_dir) {}

  Status Run() {
    std::error_code ec;
    canonical_root_ = fs::canonical(root_, ec);
    if (ec) {
      return NotFound(fmt::format("project directory {}: {}", root_.string(), ec.message()));
    }
    for (const auto& pattern : spec_.exclude) {
      STAGEHOST_ASSIGN_OR_RETURN(std::vector<std::string> parts, NormalizePattern(pattern));
      excludes_.push_back(std::move(parts));
    }
    for (const auto& pattern : spec_.paths) STAGEHOST_RETURN_IF_ERROR(AddPattern(pattern));
    if (spec_.untracked) STAGEHOST_RETURN_IF_ERROR(AddUntracked());
    return Status::Ok();
  }

  std::vector<std::string> Entries() const { return {entries_.begin(), entries_.end()}; }

 private:
  bool Excluded(const std::string& rel) const {
    std::vector<std::string> parts = Split(rel);
    for (const auto& pattern : excludes_) {
      for (size_t n = 1; n <= parts.size(); ++n) {
        std::vector<std::string> prefix(parts.begin(), parts.begin() + n);
        if (MatchComponents(pattern, 0, prefix, 0)) return true;
      }
    }
    return false;
  }

  void Add(const std::string& rel, const struct stat& st) {
    if (rel.empty() || Excluded(rel)) return;
    // FIFOs, sockets and devices cannot be archived meaningfully; they are left out.
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return;
    entries_.insert(rel);
  }

  // A directory and its whole subtree, symlinks included as links and never entered.
  Status AddTree(const std::string& rel) {
    struct stat st;
    if (lstat((root_ / rel).c_str(), &st) != 0) return ErrnoStatus(rel, errno);
    Add(rel, st);
    std::error_code ec;
    fs::recursive_directory_iterator it(root_ / rel, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string child = it->path().lexically_relative(root_).generic_string();
      if (lstat(it->path().c_str(), &st) != 0) return ErrnoStatus(child, errno);
      Add(child, st);
    }
    if (ec) return Internal(fmt::format("listing {}: {}", (root_ / rel).string(), ec.message()));
    return Status::Ok();
  }

  // Refuses a literal directory prefix that leaves the project through a symlink.
  Status CheckInside(const std::string& pattern, const std::string& rel) {
    std::error_code ec;
    fs::path real = fs::weakly_canonical(root_ / rel, ec);
    if (ec) return Status::Ok();
    fs::path inside = real.lexically_relative(canonical_root_);
    if (inside.empty() || *inside.begin() == "..") {
      return InvalidArgument(fmt::format(
          "artifact path '{}' leads outside the project directory through a symlink ({})", pattern,
          real.string()));
    }
    return Status::Ok();
  }

  Status AddPattern(const std::string& pattern) {
    STAGEHOST_ASSIGN_OR_RETURN(std::vector<std::string> parts, NormalizePattern(pattern));
    size_t literal = 0;
    while (literal < parts.size() && !HasGlobMeta(parts[literal])) ++literal;
    struct stat st;
    if (literal == parts.size()) {
      std::string rel = Join(parts, parts.size());
      if (rel.empty()) return AddTree("");
      if (lstat((root_ / rel).c_str(), &st) != 0) return Status::Ok();  // no match
      // Only the directories on the way may be symlinks; the named entry itself is never followed.
      STAGEHOST_RETURN_IF_ERROR(CheckInside(pattern, Join(parts, parts.size() - 1)));
      if (S_ISDIR(st.st_mode)) return AddTree(rel);
      Add(rel, st);
      return Status::Ok();
    }
    std::string base = Join(parts, literal);
    if (!base.empty()) {
      if (lstat((root_ / base).c_str(), &st) != 0) return Status::Ok();
      STAGEHOST_RETURN_IF_ERROR(CheckInside(pattern, base));
      if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return Status::Ok();
    }
    bool deep = false;
    for (const auto& p : parts) deep = deep || p == "**";
    std::error_code ec;
    fs::path start = base.empty() ? root_ : root_ / base;
    fs::recursive_directory_iterator it(start, fs::directory_options::none, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      std::string rel = it->path().lexically_relative(root_).generic_string();
      std::vector<std::string> rel_parts = Split(rel);
      if (lstat(it->path().c_str(), &st) != 0) return ErrnoStatus(rel, errno);
      if (MatchComponents(parts, 0, rel_parts, 0)) {
        if (S_ISDIR(st.st_mode)) {
          STAGEHOST_RETURN_IF_ERROR(AddTree(rel));
          it.disable_recursion_pending();
        } else {
          Add(rel, st);
        }
      } else if (!deep && rel_parts.size() >= parts.size()) {
        it.disable_recursion_pending();  // nothing deeper can match a pattern without `**`
      }
    }
    if (ec) return Internal(fmt::format("listing {}: {}", start.string(), ec.message()));
    return Status::Ok();
  }

  Status AddUntracked() {
    STAGEHOST_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> files, GitUntracked());
    if (!files) return AddTree("");  // not a git work tree: nothing is tracked
    for (const auto& rel : *files) {
      struct stat st;
      if (lstat((root_ / rel).c_str(), &st) == 0) Add(rel, st);
    }
    return Status::Ok();
  }

  // Runs git with stdout and stderr in anonymous files, so neither can fill a pipe and block.
  Result<std::optional<std::vector<std::string>>> GitUntracked() {
    UniqueFd out(memfd_create("git-stdout", MFD_CLOEXEC));
    UniqueFd err(memfd_create("git-stderr", MFD_CLOEXEC));
    if (!out.valid() || !err.valid()) return ErrnoStatus("memfd_create", errno);
    std::vector<std::string> args = {
        "git", "-C", root_.string(), "ls-files", "--others", "--exclude-standard", "-z"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err.get(), STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawnp(&pid, "git", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return ErrnoStatus("untracked: starting git", rc);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    auto slurp = [](int fd) {
      std::string text;
      char buffer[65536];
      ssize_t n;
      off_t offset = 0;
      while ((n = pread(fd, buffer, sizeof buffer, offset)) > 0) {
        text.append(buffer, static_cast<size_t>(n));
        offset += n;
      }
      return text;
    };
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::string message = slurp(err.get());
      if (message.find("not a git repository") != std::string::npos) {
        return std::optional<std::vector<std::string>>();
      }
      while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
        message.pop_back();
      }
      return Internal(
          fmt::format("untracked: git ls-files in {} failed: {}", root_.string(),
                      message.empty() ? "exit status " + std::to_string(status) : message));
    }
    std::string listing = slurp(out.get());
    std::vector<std::string> files;
    size_t start = 0;
    while (start < listing.size()) {
      size_t end = listing.find('\0', start);
      if (end == std::string::npos) end = listing.size();
      if (end > start) files.emplace_back(listing.substr(start, end - start));
      start = end + 1;
    }
    return std::optional<std::vector<std::string>>(std::move(files));
  }

  const ArchiveSpec& spec_;
  fs::path root_;
  fs::path canonical_root_;
  std::vector<std::vector<std::string>> excludes_;
  std::set<std::string> entries_;
};

std::string ArchiveError(struct archive* a, std::string_view what) {
  const char* text = Archive().error_string(a);
  return fmt::format("{}: {}", what, text != nullptr ? text : "libarchive error");
}

struct ArchiveWriter {
  struct archive* a = Archive().write_new();
  ~ArchiveWriter() {
    if (a != nullptr) Archive().write_free(a);
  }
};

// Opens `rel` without following a symlink and checks it is still the regular file listed.
Result<UniqueFd> OpenListed(const fs::path& root, const std::string& rel, struct stat* st) {
  // O_NONBLOCK: a FIFO swapped in after listing must not hang the archiver.
  UniqueFd fd(open((root / rel).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return ErrnoStatus(fmt::format("artifact file {}", rel), errno);
  if (fstat(fd.get(), st) != 0) return ErrnoStatus(fmt::format("artifact file {}", rel), errno);
  if (!S_ISREG(st->st_mode)) {
    return InvalidArgument(fmt::format("artifact file {} is no longer a regular file", rel));
  }
  return fd;
}

// Reads exactly `size` bytes of `fd` in buffer-sized chunks, handing each to `consume`.
Status ForEachChunk(int fd, const std::string& rel, uint64_t size, std::vector<char>& buffer,
                    const std::function<Status(const char*, size_t)>& consume) {
  uint64_t done = 0;
  while (done < size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(buffer.size(), size - done));
    ssize_t got = pread(fd, buffer.data(), want, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return ErrnoStatus(fmt::format("reading artifact file {}", rel), errno);
    if (got == 0) {
      return Unavailable(fmt::format(
          "artifact file {} shrank while it was archived ({} of {} bytes)", rel, done, size));
    }
    STAGEHOST_RETURN_IF_ERROR(consume(buffer.data(), static_cast<size_t>(got)));
    done += static_cast<uint64_t>(got);
  }
  return Status::Ok();
}

Status WriteAll(int fd, const char* data, size_t length) {
  for (size_t off = 0; off < length;) {
    ssize_t put = write(fd, data + off, length - off);
    if (put < 0 && errno == EINTR) continue;
    if (put < 0) return ErrnoStatus("writing the staged artifact", errno);
    off += static_cast<size_t>(put);
  }
  return Status::Ok();
}

// Streams exactly st_size bytes of `fd` into the current entry.
Status CopyData(struct archive* a, int fd, const std::string& rel, uint64_t size,
                std::vector<char>& buffer) {
  return ForEachChunk(fd, rel, size, buffer, [&](const char* data, size_t length) {
    if (Archive().write_data(a, data, length) != static_cast<la_ssize_t>(length)) {
      return Internal(ArchiveError(a, fmt::format("writing {} into the archive", rel)));
    }
    return Status::Ok();
  });
}

Status WriteZip(const ArchiveSpec& spec, const std::vector<std::string>& entries, int out_fd,
                StagedArchive* staged) {
  ArchiveWriter w;
  if (w.a == nullptr) return Internal("archive_write_new failed");
  Archive().write_set_format_zip(w.a);
  // Without it libarchive pads the file to a 10 KiB block with zeros.
  Archive().write_set_bytes_in_last_block(w.a, 1);
  std::string level = std::to_string(std::clamp(spec.compression_level, 1, 9));
  Archive().write_set_format_option(w.a, "zip", "compression-level", level.c_str());
  if (Archive().write_open_fd(w.a, out_fd) != ARCHIVE_OK) {
    return Internal(ArchiveError(w.a, "opening the staged zip"));
  }
  std::vector<char> buffer(kCopyBuffer);
  for (const std::string& rel : entries) {
    struct stat st;
    if (lstat((spec.project_dir / rel).c_str(), &st) != 0) {
      return ErrnoStatus(fmt::format("artifact file {}", rel), errno);
    }
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(Archive().entry_new(),
                                                                   Archive().entry_free);
    Archive().entry_set_pathname(entry.get(), rel.c_str());
    Archive().entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    Archive().entry_set_perm(entry.get(), st.st_mode & 0777);
    UniqueFd fd;
    bool store = true;
    if (S_ISLNK(st.st_mode)) {
      std::vector<char> target(static_cast<size_t>(st.st_size) + 2);
      ssize_t n = readlink((spec.project_dir / rel).c_str(), target.data(), target.size() - 1);
      if (n < 0) return ErrnoStatus(fmt::format("reading symlink {}", rel), errno);
      target[static_cast<size_t>(n)] = '\0';
      Archive().entry_set_filetype(entry.get(), AE_IFLNK);
      Archive().entry_set_symlink(entry.get(), target.data());
    } else if (S_ISDIR(st.st_mode)) {
      Archive().entry_set_filetype(entry.get(), AE_IFDIR);
    } else {
      STAGEHOST_ASSIGN_OR_RETURN(fd, OpenListed(spec.project_dir, rel, &st));
      Archive().entry_set_filetype(entry.get(), AE_IFREG);
      Archive().entry_set_size(entry.get(), st.st_size);
      size_t sample_size = static_cast<size_t>(std::min<off_t>(st.st_size, kSampleSize));
      ssize_t got = pread(fd.get(), buffer.data(), sample_size, 0);
      if (got < 0) return ErrnoStatus(fmt::format("reading artifact file {}", rel), errno);
      store = !LooksCompressible(std::string_view(buffer.data(), static_cast<size_t>(got)));
    }
    if (store) {
      Archive().write_zip_set_compression_store(w.a);
      if (S_ISREG(st.st_mode)) ++staged->stored_entries;
    } else {
      Archive().write_zip_set_compression_deflate(w.a);
    }
    if (Archive().write_header(w.a, entry.get()) < ARCHIVE_WARN) {
      return Internal(ArchiveError(w.a, fmt::format("adding {} to the archive", rel)));
    }
    if (fd.valid()) {
      STAGEHOST_RETURN_IF_ERROR(
          CopyData(w.a, fd.get(), rel, static_cast<uint64_t>(st.st_size), buffer));
    }
    if (Archive().write_finish_entry(w.a) < ARCHIVE_WARN) {
      return Internal(ArchiveError(w.a, fmt::format("finishing {} in the archive", rel)));
    }
    ++staged->entries;
  }
  if (Archive().write_close(w.a) != ARCHIVE_OK) {
    return Internal(ArchiveError(w.a, "finishing the staged zip"));
  }
  return Status::Ok();
}

Status WriteSingle(const ArchiveSpec& spec, const std::string& rel, int out_fd) {
  struct stat st;
  STAGEHOST_ASSIGN_OR_RETURN(UniqueFd fd, OpenListed(spec.project_dir, rel, &st));
  std::vector<char> buffer(kCopyBuffer);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (spec.format == ArchiveFormat::kRaw) {
    return ForEachChunk(fd.get(), rel, size, buffer, [out_fd](const char* data, size_t length) {
      return WriteAll(out_fd, data, length);
    });
  }
  // gzip with zlib itself: libarchive's gzip filter cannot put the file's name in the header.
  z_stream z{};
  if (deflateInit2(&z, std::clamp(spec.compression_level, 1, 9), Z_DEFLATED, 15 + 16, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("zlib: deflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> cleanup(&z, deflateEnd);
  // The member's name is the project-relative path, as gitlab-runner's gzip writer names it.
  gz_header header{};
  header.name = reinterpret_cast<Bytef*>(const_cast<char*>(rel.c_str()));
  header.os = 3;  // Unix
  deflateSetHeader(&z, &header);
  std::vector<char> out(kCopyBuffer);
  auto drain = [&](int flush) -> Status {
    do {
      z.next_out = reinterpret_cast<Bytef*>(out.data());
      z.avail_out = static_cast<uInt>(out.size());
      int rc = deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) return Internal("zlib: deflate failed");
      STAGEHOST_RETURN_IF_ERROR(WriteAll(out_fd, out.data(), out.size() - z.avail_out));
    } while (z.avail_out == 0);
    return Status::Ok();
  };
  STAGEHOST_RETURN_IF_ERROR(
      ForEachChunk(fd.get(), rel, size, buffer, [&](const char* data, size_t length) {
        z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
        z.avail_in = static_cast<uInt>(length);
        return drain(Z_NO_FLUSH);
      }));
  return drain(Z_FINISH);
}

}  // namespace

Result<ArchiveFormat> ParseArchiveFormat(std::string_view name) {
  if (name == "zip" || name.empty()) return ArchiveFormat::kZip;
  if (name == "gzip") return ArchiveFormat::kGzip;
  if (name == "raw") return ArchiveFormat::kRaw;
  return InvalidArgument(
      fmt::format("artifact format '{}' is not supported (zip, gzip or raw)", name));
}

std::string_view ArchiveFormatName(ArchiveFormat format) {
  switch (format) {
    case ArchiveFormat::kZip:
      return "zip";
    case ArchiveFormat::kGzip:
      return "gzip";
    case ArchiveFormat::kRaw:
      return "raw";
  }
  return "zip";
}

bool GlobMatch(std::string_view pattern, std::string_view path) {
  return MatchComponents(Split(pattern), 0, Split(path), 0);
}

bool LooksCompressible(std::string_view sample) {
  if (sample.empty()) return false;
  uLongf bound = compressBound(static_cast<uLong>(sample.size()));
  std::vector<Bytef> out(bound);
  if (compress2(out.data(), &bound, reinterpret_cast<const Bytef*>(sample.data()),
                static_cast<uLong>(sample.size()), 1) != Z_OK) {
    return false;
  }
  return static_cast<double>(bound) <= 0.95 * static_cast<double>(sample.size());
}

Result<std::vector<std::string>> CollectArchiveEntries(const ArchiveSpec& spec) {
  Collector collector(spec);
  STAGEHOST_RETURN_IF_ERROR(collector.Run());
  return collector.Entries();
}

Result<StagedArchive> BuildArchive(const ArchiveSpec& spec) {
  STAGEHOST_RETURN_IF_ERROR(LibArchive().status());
  STAGEHOST_ASSIGN_OR_RETURN(std::vector<std::string> entries, CollectArchiveEntries(spec));
  if (entries.empty()) {
    std::string what = fmt::format("paths [{}]", JoinPatterns(spec.paths));
    if (spec.untracked) what += " and untracked files";
    if (!spec.exclude.empty()) what += fmt::format(" (exclude [{}])", JoinPatterns(spec.exclude));
    return NotFound(fmt::format("no files matched {} in {}", what, spec.project_dir.string()));
  }
  StagedArchive staged;
  staged.path = spec.output;
  if (spec.format != ArchiveFormat::kZip) {
    std::vector<std::string> files;
    for (const auto& rel : entries) {
      struct stat st;
      if (lstat((spec.project_dir / rel).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
        files.push_back(rel);
      }
    }
    if (files.empty() || (spec.format == ArchiveFormat::kRaw && files.size() != 1)) {
      return InvalidArgument(
          fmt::format("artifact format {} takes {} file, but paths [{}] matched {} files",
                      ArchiveFormatName(spec.format),
                      spec.format == ArchiveFormat::kRaw ? "exactly one" : "at least one regular",
                      JoinPatterns(spec.paths), files.size()));
    }
    staged.single_file = files.front();
    entries = std::move(files);
  }
  UniqueFd out(open(spec.output.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!out.valid()) return ErrnoStatus(fmt::format("creating {}", spec.output.string()), errno);
  Status written;
  if (spec.format == ArchiveFormat::kZip) {
    written = WriteZip(spec, entries, out.get(), &staged);
  } else {
    // gzip of several files: one gzip member per file, back to back, as gitlab-runner writes
    // report artifacts (GitLab reads every member).
    for (const std::string& rel : entries) {
      written = WriteSingle(spec, rel, out.get());
      if (!written.ok()) break;
    }
    staged.entries = entries.size();
  }
  struct stat st;
  if (written.ok() && fstat(out.get(), &st) != 0) {
    written = ErrnoStatus("stat of the staged artifact", errno);
  }
  Result<std::string> digest =
      written.ok() ? Sha256HexOfFd(out.get()) : Result<std::string>(written);
  if (!digest.ok()) {
    unlink(spec.output.c_str());
    return digest.status().WithContext(fmt::format("staging artifact {}", spec.output.string()));
  }
  staged.size = static_cast<uint64_t>(st.st_size);
  staged.sha256 = std::move(*digest);
  return staged;
}

}  // namespace stagehost::artifacts
