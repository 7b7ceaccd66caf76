// Artifact upload: multipart framing around the staged file, retries without re-archiving.
#include "gitlab/runner/artifact_upload.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <random>
#include <thread>

#include "net/retry.h"
#include "util/unique_fd.h"

namespace stagehost::gitlab {
namespace {

constexpr int kMaxTries = 3;
constexpr int kMaxTriesOn503 = 6;
constexpr int kMaxRedirects = 5;

std::string RandomHex(size_t bytes) {
  std::random_device device;
  std::string out;
  for (size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", device() & 0xff);
  return out;
}

// Go's multipart writer escapes `\` and `"` the same way; CR/LF would end the header line.
std::string QuoteFileName(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\r' || c == '\n') c = '_';
    out += c;
  }
  return out;
}

// Sleeps `delay`, waking every 100 ms to honour `abort`; false when aborted.
bool Pause(std::chrono::milliseconds delay, const std::atomic<bool>* abort) {
  auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
    if (abort != nullptr && abort->load()) return false;
    auto left = until - std::chrono::steady_clock::now();
    std::this_thread::sleep_for(
        std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(100)));
  }
  return abort == nullptr || !abort->load();
}

std::string BodyExcerpt(const std::string& body) {
  std::string text = body.substr(0, 200);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text.empty() ? "" : ": " + text;
}

}  // namespace

std::string HumanSize(uint64_t bytes) {
  if (bytes >= (1ULL << 30)) return fmt::format("{:.1f} GiB", bytes / double(1ULL << 30));
  if (bytes >= (1ULL << 20)) return fmt::format("{:.1f} MiB", bytes / double(1ULL << 20));
  if (bytes >= (1ULL << 10)) return fmt::format("{:.1f} KiB", bytes / double(1ULL << 10));
  return fmt::format("{} B", bytes);
}

std::string ArtifactFileName(std::string_view name, std::string_view artifact_format) {
  std::string base;
  if (name.empty()) {
    base = "artifacts";
  } else {
    while (!name.empty() && name.back() == '/') name.remove_suffix(1);
    size_t slash = name.rfind('/');
    base = std::string(slash == std::string_view::npos ? name : name.substr(slash + 1));
    if (base.empty() || base == "." || base == "..") base = "default";
  }
  if (artifact_format == "zip" || artifact_format == "zipzstd") return base + ".zip";
  if (artifact_format == "gzip") return base + ".gz";
  if (artifact_format == "tarzstd") return base + ".tar.zst";
  return base;
}

std::optional<std::string> Retarget(std::string_view url, std::string_view location) {
  auto origin_end = [](std::string_view u) -> std::optional<size_t> {
    size_t scheme = u.find("://");
    if (scheme == std::string_view::npos) return std::nullopt;
    std::string_view name = u.substr(0, scheme);
    if (name != "http" && name != "https") return std::nullopt;
    size_t path = u.find_first_of("/?#", scheme + 3);
    return path == std::string_view::npos ? u.size() : path;
  };
  std::optional<size_t> target = origin_end(location);
  std::optional<size_t> ours = origin_end(url);
  if (!target || !ours || *target <= location.find("://") + 3) return std::nullopt;
  return std::string(location.substr(0, *target)) + std::string(url.substr(*ours));
}

Result<ArtifactUploadResult> UploadArtifact(net::HttpClient& http, const ArtifactUpload& upload) {
  UniqueFd fd(open(upload.staged_file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return ErrnoStatus(fmt::format("artifact upload: opening {}", upload.staged_file.string()),
                       errno);
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus("artifact upload: stat", errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  const std::string file_name = ArtifactFileName(upload.name, upload.artifact_format);

  std::string url = fmt::format("{}jobs/{}/artifacts?artifact_format={}&artifact_type={}",
                                upload.base, upload.job_id, net::UrlEscape(upload.artifact_format),
                                net::UrlEscape(upload.artifact_type));
  if (!upload.expire_in.empty()) url += "&expire_in=" + net::UrlEscape(upload.expire_in);

  // One boundary for all tries: every try sends byte-identical bodies.
  const std::string boundary = "stagehost-" + RandomHex(16);
  net::Request request;
  request.method = "POST";
  request.headers = {{"JOB-TOKEN", upload.job_token},
                     {"Content-Type", "multipart/form-data; boundary=" + boundary},
                     {"Accept", "application/json"}};
  request.body_fd = fd.get();
  request.body_offset = 0;
  request.body_length = size;
  request.body_prefix = fmt::format(
      "--{}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\n"
      "Content-Type: application/octet-stream\r\n\r\n",
      boundary, QuoteFileName(file_name));
  request.body_suffix = fmt::format("\r\n--{}--\r\n", boundary);
  request.timeouts = upload.timeouts;
  if (upload.on_progress) {
    const uint64_t prefix = request.body_prefix.size();
    request.on_upload_progress = [&upload, prefix, size](uint64_t sent, uint64_t) {
      uint64_t file_sent = sent > prefix ? std::min(sent - prefix, size) : 0;
      upload.on_progress(file_sent, size);
    };
  }

  const std::string what = fmt::format("artifact upload of {} ({}) for job {}", file_name,
                                       HumanSize(size), upload.job_id);
  net::Backoff backoff(upload.initial_backoff, upload.max_backoff);
  int failures = 0;
  int redirects = 0;
  ArtifactUploadResult result;
  while (true) {
    request.url = url;
    request.headers.resize(3);
    request.headers.push_back({"X-Request-Id", RandomHex(16)});
    ++result.attempts;
    Result<net::Response> sent = http.Send(request);
    std::optional<std::chrono::milliseconds> server_delay;
    std::string failure;
    bool was_503 = false;
    if (!sent.ok()) {
      if (sent.status().code() != StatusCode::kUnavailable) {
        return sent.status().WithContext(what);  // cancelled, or the staged file broke
      }
      failure = sent.status().message();
    } else {
      const net::Response& response = *sent;
      long code = response.status;
      if (code == 201 || (code >= 200 && code < 300)) {
        result.url = url;
        result.response = response.body;
        return result;
      }
      if (code == 307 || code == 308) {
        std::optional<std::string> moved;
        if (auto location = response.Header("Location")) moved = Retarget(url, *location);
        if (!moved) {
          return InvalidArgument(
              fmt::format("{}: {} without a usable Location header", what, code));
        }
        if (++redirects > kMaxRedirects) {
          return Unavailable(fmt::format("{}: more than {} redirects", what, kMaxRedirects));
        }
        url = std::move(*moved);
        continue;  // a move is not a failure: no pause, no try spent
      }
      if (code == 413) {
        return InvalidArgument(fmt::format(
            "{}: refused by GitLab with 413, the archive is {} ({} bytes), over the maximum "
            "artifact size of this instance or project{}",
            what, HumanSize(size), size, BodyExcerpt(response.body)));
      }
      if (code == 403) {
        return PermissionDenied(
            fmt::format("{}: 403 Forbidden (job not running or token invalid){}", what,
                        BodyExcerpt(response.body)));
      }
      if (!(code >= 500 || code == 408 || code == 429)) {
        return InvalidArgument(
            fmt::format("{}: refused with {}{}", what, code, BodyExcerpt(response.body)));
      }
      was_503 = code == 503;
      failure = fmt::format("HTTP {}{}", code, BodyExcerpt(response.body));
      server_delay = net::ServerRequestedDelay(response, std::chrono::system_clock::now());
    }
    ++failures;
    int allowed = was_503 ? kMaxTriesOn503 : kMaxTries;
    if (failures >= allowed) {
      return Unavailable(
          fmt::format("{}: failed after {} tries, last: {}", what, failures, failure));
    }
    std::chrono::milliseconds delay = backoff.Next();
    if (server_delay) delay = std::min(*server_delay, std::chrono::milliseconds(60'000));
    if (!Pause(delay, upload.abort)) return Cancelled(what + ": aborted");
  }
}

}  // namespace stagehost::gitlab
