// http.cc -- libcurl easy-interface implementation of HttpCall.
#include "http.h"

#include <curl/curl.h>
#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <mutex>

namespace stagehost::deploy {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  std::uint64_t sent = 0;
  bool aborted_by_sink = false;
};

size_t OnWrite(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  if (t->request->sink) {
    if (!t->request->sink(std::string_view(data, n))) {
      t->aborted_by_sink = true;
      return 0;
    }
    return n;
  }
  if (t->response->body.size() + n > t->request->max_body) return 0;
  t->response->body.append(data, n);
  return n;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::uint64_t left = t->request->upload_length - t->sent;
  const size_t want = static_cast<size_t>(std::min<std::uint64_t>(size * count, left));
  if (want == 0) return 0;
  for (;;) {
    ssize_t n = ::pread(t->request->upload_fd, buffer, want,
                        static_cast<off_t>(t->request->upload_offset + t->sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return CURL_READFUNC_ABORT;  // a shrinking file must not upload short
    t->sent += static_cast<std::uint64_t>(n);
    return static_cast<size_t>(n);
  }
}

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  std::string_view line(data, n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->response->headers.clear();  // a new response (after 100 Continue or a redirect)
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name;
  for (char c : line.substr(0, colon))
    name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
    value.remove_suffix(1);
  t->response->headers[name] = std::string(value);
  return n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  return (t->request->cancelled && t->request->cancelled()) ? 1 : 0;
}

}  // namespace

std::string HttpResponse::Describe() const {
  if (!error.empty()) return error;
  std::string out = "HTTP " + std::to_string(status);
  if (!body.empty()) out += ": " + body.substr(0, 300);
  return out;
}

HttpResponse HttpCall(const HttpRequest& request) {
  GlobalInit();
  HttpResponse response;
  CURL* curl = curl_easy_init();
  if (!curl) {
    response.error = "curl_easy_init failed";
    return response;
  }
  Transfer t{&request, &response};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, request.timeout_ms);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, request.connect_timeout_ms);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  // Large uploads go in big writes; a 1 MiB upload buffer keeps syscalls and memory modest.
  curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
  if (!request.basic_auth.empty()) {
    curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.basic_auth.c_str());
  }
  curl_slist* headers = nullptr;
  // No "Expect: 100-continue" round trip, and no form content type curl would add on its own.
  headers = curl_slist_append(headers, "Expect:");
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT" && request.upload_fd >= 0) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
    curl_easy_setopt(curl, CURLOPT_READDATA, &t);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE,
                     static_cast<curl_off_t>(request.upload_length));
  } else if (request.method == "PUT" || request.method == "POST") {
    bool has_type =
        std::any_of(request.headers.begin(), request.headers.end(), [](const std::string& h) {
          return h.size() > 13 && strncasecmp(h.c_str(), "content-type:", 13) == 0;
        });
    if (!has_type) headers = curl_slist_append(headers, "Content-Type:");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (rc != CURLE_OK && !t.aborted_by_sink) {
    if (rc == CURLE_ABORTED_BY_CALLBACK) {
      response.error = "cancelled";
    } else {
      response.error =
          std::string(curl_easy_strerror(rc)) + (errbuf[0] ? std::string(": ") + errbuf : "");
    }
    // A transport error voids the status: a half-sent PUT must not look like a success.
    response.status = 0;
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return response;
}

std::string RedactUrl(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  size_t start = scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  return std::string(url.substr(0, start)) + std::string(url.substr(start + at + 1));
}

std::string UrlHostPort(std::string_view url) {
  size_t scheme = url.find("://");
  size_t start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string_view authority =
      url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  return std::string(authority);
}

}  // namespace stagehost::deploy
