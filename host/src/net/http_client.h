// HTTP client over libcurl for the GitLab and Jenkins API clients: timeouts on every phase, bodies
// streamed from file regions, transport failures as Status and HTTP statuses as data.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace stagehost::net {

struct Timeouts {
  std::chrono::milliseconds connect{10'000};
  // No byte moved in either direction for this long aborts the request: catches half-open and
  // stalled servers that a whole-request timeout would only catch much later (reliability.md R6).
  std::chrono::milliseconds idle{30'000};
  // Cap on the whole request; zero means none (large uploads rely on `idle`).
  std::chrono::milliseconds total{0};
};

struct HeaderField {
  std::string name;
  std::string value;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<HeaderField> headers;
  // Sent with a Content-Length unless `body_fd` is set.
  std::string body;
  // A body read with pread() from [body_offset, body_offset + body_length) of an open file: the
  // trace spool or a staged archive is never held in memory, and a retry re-reads the same bytes.
  int body_fd = -1;
  std::uint64_t body_offset = 0;
  std::uint64_t body_length = 0;
  // Only with `body_fd`: bytes sent before and after the file region, in one body whose
  // Content-Length is known. A multipart upload frames a staged archive this way without copying
  // it (gitlab/runner/artifact_upload.h); both empty leaves the body exactly the file region.
  std::string body_prefix;
  std::string body_suffix;
  // When set, receives the response body chunk by chunk (Response::body stays empty); returning
  // false aborts the transfer with kCancelled.
  std::function<bool(std::string_view)> on_body;
  // Called with the bytes of the request body sent so far (progress of large uploads).
  std::function<void(std::uint64_t sent, std::uint64_t total)> on_upload_progress;
  Timeouts timeouts;
};

struct Response {
  long status = 0;
  std::vector<HeaderField> headers;  // as received, in order
  std::string body;

  // The last header of that name (case-insensitive), if any.
  std::optional<std::string> Header(std::string_view name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

struct ClientOptions {
  std::string user_agent;
  std::string ca_file;    // PEM bundle to trust instead of the system store
  std::string cert_file;  // client certificate (PEM), with key_file
  std::string key_file;
  // Checked while a request runs: when it becomes true the request ends with kCancelled within
  // about 100 ms, so a shutdown never waits on a hung server.
  const std::atomic<bool>* abort = nullptr;
};

// One connection-reusing client. Not thread-safe: use one per thread.
// Redirects are never followed: callers decide, so a token header never reaches another host.
class HttpClient {
 public:
  explicit HttpClient(ClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // A non-2xx status is a Response, not an error. Transport failures (refused, reset, DNS, TLS,
  // timeouts) are kUnavailable with the cause; an abort is kCancelled.
  Result<Response> Send(const Request& request);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// "https://h/x?a=b c" -> "a%3Db%20c"-style escaping of one query value or path segment.
std::string UrlEscape(std::string_view text);

}  // namespace stagehost::net
