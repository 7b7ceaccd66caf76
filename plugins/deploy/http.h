// http.h -- a small libcurl client for the deploy plugin: one call per request, file uploads
// streamed with pread (never loaded into memory), response bodies to a buffer or a sink.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace stagehost::deploy {

struct HttpRequest {
  std::string method = "GET";  // GET, HEAD, PUT, POST, DELETE
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent for PUT/POST when upload_fd < 0
  // A file range to send as the body (PUT): streamed, never buffered whole.
  int upload_fd = -1;
  std::uint64_t upload_offset = 0;
  std::uint64_t upload_length = 0;
  // Receives the response body in chunks; return false to abort. Unset: kept in `body` up to
  // max_body bytes.
  std::function<bool(std::string_view)> sink;
  std::size_t max_body = 4 << 20;
  std::string basic_auth;  // "user:password"
  long timeout_ms = 60000;
  long connect_timeout_ms = 5000;
  std::function<bool()> cancelled;  // polled during transfers
};

struct HttpResponse {
  long status = 0;                             // 0 when no HTTP response came back
  std::string error;                           // transport error (connection refused, timeout...)
  std::string body;                            // unless a sink took it
  std::map<std::string, std::string> headers;  // names in lower case; last value wins
  bool ok() const { return error.empty() && status >= 200 && status < 300; }
  // "HTTP 404" or the transport error, for messages.
  std::string Describe() const;
};

// Performs one request. Never throws for HTTP or transport failures: they are in the response.
HttpResponse HttpCall(const HttpRequest& request);

// "scheme://user:pass@host/..." -> "scheme://host/...": URLs are logged only through this.
std::string RedactUrl(std::string_view url);

// The host[:port] part of an http(s) URL, as curl sends it in the Host header.
std::string UrlHostPort(std::string_view url);

}  // namespace stagehost::deploy
