// artifact_emit checks: path containment (lexical, realpath, open fd), file type, size and SHA-256.
#include "artifacts/artifact_check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "util/file_type.h"
#include "util/sha256.h"
#include "util/unique_fd.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;

// The path comes from a plugin; escape quotes and control bytes so it cannot forge log lines.
std::string Quote(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char escaped[5];
      std::snprintf(escaped, sizeof(escaped), "\\x%02x", c);
      out += escaped;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// Component-wise, so "/art-other" is not taken to be inside "/art". `dir` is canonical.
bool IsWithin(const fs::path& dir, const fs::path& path) {
  return std::mismatch(dir.begin(), dir.end(), path.begin(), path.end()).first == dir.end();
}

bool SameContent(const struct stat& a, const struct stat& b) {
  return a.st_size == b.st_size && a.st_mtim.tv_sec == b.st_mtim.tv_sec &&
         a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

}  // namespace

Result<ArtifactRecord> CheckArtifact(const fs::path& artifact_dir, std::string_view rel_path,
                                     std::string_view name, std::string_view media_type) {
  const std::string what = "artifact " + Quote(rel_path);
  auto refuse = [&what](std::string_view why) {
    return InvalidArgument(what + ": " + std::string(why));
  };
  if (rel_path.empty()) return refuse("empty path");
  if (rel_path.find('\0') != std::string_view::npos) return refuse("path contains a NUL byte");
  const fs::path rel{std::string(rel_path)};
  if (rel.is_absolute()) return refuse("absolute path; artifact paths are relative");
  // Lexically first: "../x" is refused as an escape whether or not the target exists.
  const fs::path normal = rel.lexically_normal();
  if (*normal.begin() == "..") return refuse("path escapes the artifact directory");

  std::error_code ec;
  const fs::path root = fs::canonical(artifact_dir, ec);
  if (ec) return ErrnoStatus("artifact directory " + artifact_dir.string(), ec.value());
  const fs::path resolved = fs::canonical(root / normal, ec);
  if (ec == std::errc::no_such_file_or_directory) return NotFound(what + ": no such file");
  if (ec) return refuse(ec.message());
  if (!IsWithin(root, resolved)) return refuse("path escapes the artifact directory");

  // lstat first so that devices, FIFOs and sockets are refused without being opened at all.
  struct stat st;
  if (::lstat(resolved.c_str(), &st) != 0) return refuse(std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return refuse("not a regular file (" + FileTypeName(st.st_mode) + ")");
  // O_NONBLOCK|O_NOCTTY: if a FIFO or tty is swapped in after the lstat, the open still returns.
  UniqueFd fd(::open(resolved.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd.valid() && errno == ELOOP) return refuse("file changed while being checked");
  if (!fd.valid()) return refuse(std::strerror(errno));
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus("stat " + what, errno);
  if (!S_ISREG(st.st_mode)) return refuse("not a regular file (" + FileTypeName(st.st_mode) + ")");
  // realpath and open are two lookups, and the plugin may still be running: a directory swapped
  // for a symlink in between would redirect the open. The kernel's own name for the open fd tells
  // where the bytes really come from.
  const fs::path opened = fs::read_symlink("/proc/self/fd/" + std::to_string(fd.get()), ec);
  if (ec)
    return Internal(what + ": cannot read /proc/self/fd (is /proc mounted?): " + ec.message());
  if (!IsWithin(root, opened)) return refuse("path escapes the artifact directory");

  Result<std::string> sha256 = Sha256HexOfFd(fd.get());
  if (!sha256.ok()) return sha256.status().WithContext(what);
  struct stat after;
  if (::fstat(fd.get(), &after) != 0) return ErrnoStatus("stat " + what, errno);
  // Size and digest must describe the same bytes; a file still being written is the plugin's bug.
  if (!SameContent(st, after)) return refuse("file changed while being hashed");

  ArtifactRecord record;
  record.rel_path = normal.string();
  record.name = name;
  record.media_type = media_type;
  record.size = static_cast<uint64_t>(st.st_size);
  record.sha256 = std::move(sha256).value();
  return record;
}

}  // namespace stagehost
