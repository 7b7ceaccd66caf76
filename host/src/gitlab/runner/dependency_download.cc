// Dependency download with token-safe redirects, then the checked extraction of artifacts/.
#include "gitlab/runner/dependency_download.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <thread>

namespace stagehost::gitlab {
namespace fs = std::filesystem;
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

Result<artifacts::ExtractSummary> FetchDependency(net::HttpClient& http,
                                                  const DependencyDownload& download,
                                                  const fs::path& project_dir,
                                                  const artifacts::ExtractLimits& limits) {
  STAGEHOST_ASSIGN_OR_RETURN(DownloadedArchive archive, DownloadDependency(http, download));
  Result<artifacts::ExtractSummary> extracted =
      artifacts::ExtractArchiveSafely(archive.fd.get(), project_dir, limits);
  if (!extracted.ok()) {
    return extracted.status().WithContext(
        fmt::format("dependency {} (job {})", download.name, download.dependency_id));
  }
  return extracted;
}

}  // namespace stagehost::gitlab
