// libcurl adapter behind HttpClient: one easy handle per client keeps its connection alive.
#include "net/http_client.h"

#include <fmt/format.h>
#include <strings.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <utility>

#include "net/curl_library.h"

namespace stagehost::net {
namespace {

struct Transfer {
  const Request* request = nullptr;
  Response* response = nullptr;
  const std::atomic<bool>* abort = nullptr;
  std::uint64_t body_sent = 0;
  bool aborted_by_caller = false;
  bool body_read_failed = false;
  int body_errno = 0;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  // A new status line (after a 100 Continue, say) starts a new header block.
  if (line.starts_with("HTTP/")) {
    transfer->response->headers.clear();
    return line.size();
  }
  auto colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == '\r' || s.back() == '\n' || s.back() == ' ')) {
      s.remove_suffix(1);
    }
    return s;
  };
  transfer->response->headers.push_back(
      {std::string(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1)))});
  return line.size();
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (transfer->request->on_body) {
    if (!transfer->request->on_body(std::string_view(data, n))) {
      transfer->aborted_by_caller = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return n;
  }
  transfer->response->body.append(data, n);
  return n;
}

std::uint64_t BodySize(const Request& request) {
  return request.body_prefix.size() + request.body_length + request.body_suffix.size();
}

size_t OnReadBody(char* buffer, size_t size, size_t count, void* user) {
  auto* transfer = static_cast<Transfer*>(user);
  const Request& request = *transfer->request;
  // body_sent counts the whole body: prefix, then the file region, then the suffix.
  const std::uint64_t prefix = request.body_prefix.size();
  const std::uint64_t file_end = prefix + request.body_length;
  std::uint64_t sent = transfer->body_sent;
  std::uint64_t room = size * count;
  if (sent < prefix) {
    size_t n = static_cast<size_t>(std::min<std::uint64_t>(prefix - sent, room));
    std::memcpy(buffer, request.body_prefix.data() + sent, n);
    transfer->body_sent += n;
    return n;
  }
  if (sent >= file_end) {
    std::uint64_t done = sent - file_end;
    size_t n =
        static_cast<size_t>(std::min<std::uint64_t>(request.body_suffix.size() - done, room));
    if (n > 0) std::memcpy(buffer, request.body_suffix.data() + done, n);
    transfer->body_sent += n;
    return n;
  }
  size_t want = static_cast<size_t>(std::min<std::uint64_t>(file_end - sent, room));
  ssize_t got;
  do {
    got = pread(request.body_fd, buffer, want,
                static_cast<off_t>(request.body_offset + (sent - prefix)));
  } while (got < 0 && errno == EINTR);
  if (got <= 0) {
    // A file that shrank under us must not turn into a silently short body.
    transfer->body_read_failed = true;
    transfer->body_errno = got < 0 ? errno : 0;
    return CURL_READFUNC_ABORT;
  }
  transfer->body_sent += static_cast<std::uint64_t>(got);
  return static_cast<size_t>(got);
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t upload_total, curl_off_t upload_now) {
  auto* transfer = static_cast<Transfer*>(user);
  if (transfer->abort != nullptr && transfer->abort->load(std::memory_order_relaxed)) return 1;
  if (transfer->request->on_upload_progress && upload_total > 0) {
    transfer->request->on_upload_progress(static_cast<std::uint64_t>(upload_now),
                                          static_cast<std::uint64_t>(upload_total));
  }
  return 0;
}

}  // namespace

std::optional<std::string> Response::Header(std::string_view name) const {
  for (auto it = headers.rbegin(); it != headers.rend(); ++it) {
    if (it->name.size() == name.size() &&
        strncasecmp(it->name.data(), name.data(), name.size()) == 0) {
      return it->value;
    }
  }
  return std::nullopt;
}

struct HttpClient::Impl {
  const CurlLibrary* lib = nullptr;  // null when libcurl could not be loaded
  std::string load_error;
  ClientOptions options;
  CURL* curl = nullptr;
  // The multi interface only so a transfer can be polled with a short timeout: an abort flag is
  // then seen within ~100 ms even while the server sends nothing. It also owns the connection.
  CURLM* multi = nullptr;
  char error[CURL_ERROR_SIZE] = {};

  // Runs the configured transfer; sets *aborted when the abort flag ended it.
  CURLcode Perform(bool* aborted);
};

CURLcode HttpClient::Impl::Perform(bool* aborted) {
  *aborted = false;
  if (lib->multi_add_handle(multi, curl) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_OK;
  int running = 1;
  while (true) {
    if (lib->multi_perform(multi, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    if (running == 0) {
      int left = 0;
      while (CURLMsg* message = lib->multi_info_read(multi, &left)) {
        if (message->msg == CURLMSG_DONE && message->easy_handle == curl) {
          result = message->data.result;
        }
      }
      break;
    }
    if (options.abort != nullptr && options.abort->load(std::memory_order_relaxed)) {
      *aborted = true;
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    lib->multi_poll(multi, nullptr, 0, 100, nullptr);
  }
  lib->multi_remove_handle(multi, curl);
  return result;
}

HttpClient::HttpClient(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  Result<const CurlLibrary*> lib = Curl();
  if (!lib.ok()) {
    impl_->load_error = lib.status().message();
    return;
  }
  impl_->lib = *lib;
  impl_->curl = impl_->lib->easy_init();
  impl_->multi = impl_->lib->multi_init();
}

HttpClient::~HttpClient() {
  if (!impl_ || impl_->lib == nullptr) return;
  const CurlLibrary* lib = impl_->lib;
  if (impl_->curl != nullptr) lib->easy_cleanup(impl_->curl);
  if (impl_->multi != nullptr) lib->multi_cleanup(impl_->multi);
}

HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

Result<Response> HttpClient::Send(const Request& request) {
  if (impl_->lib == nullptr) return Unavailable(impl_->load_error);
  const CurlLibrary* lib = impl_->lib;
  CURL* curl = impl_->curl;
  if (curl == nullptr || impl_->multi == nullptr) {
    return Internal("libcurl could not create a handle");
  }
  // Reset keeps the live connection and the DNS cache; only the options go.
  lib->easy_reset(curl);

  Response response;
  Transfer transfer;
  transfer.request = &request;
  transfer.response = &response;
  transfer.abort = impl_->options.abort;
  impl_->error[0] = '\0';

  lib->easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  lib->easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  lib->easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  lib->easy_setopt(curl, CURLOPT_ERRORBUFFER, impl_->error);
  lib->easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  lib->easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  lib->easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  lib->easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.timeouts.connect.count()));
  if (request.timeouts.total.count() > 0) {
    lib->easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeouts.total.count()));
  }
  long idle_seconds = std::max<long>(1, (request.timeouts.idle.count() + 999) / 1000);
  lib->easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  lib->easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, idle_seconds);
  if (!impl_->options.user_agent.empty()) {
    lib->easy_setopt(curl, CURLOPT_USERAGENT, impl_->options.user_agent.c_str());
  }
  if (!impl_->options.ca_file.empty()) {
    lib->easy_setopt(curl, CURLOPT_CAINFO, impl_->options.ca_file.c_str());
  }
  if (!impl_->options.cert_file.empty()) {
    lib->easy_setopt(curl, CURLOPT_SSLCERT, impl_->options.cert_file.c_str());
    lib->easy_setopt(curl, CURLOPT_SSLKEY, impl_->options.key_file.c_str());
  }

  lib->easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  lib->easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  lib->easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  lib->easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  lib->easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  lib->easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
  lib->easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);

  bool has_body = request.body_fd >= 0 || !request.body.empty() || request.method == "POST" ||
                  request.method == "PUT" || request.method == "PATCH";
  if (request.method == "HEAD") {
    lib->easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (has_body) {
    lib->easy_setopt(curl, CURLOPT_POST, 1L);
    if (request.body_fd >= 0) {
      lib->easy_setopt(curl, CURLOPT_READFUNCTION, OnReadBody);
      lib->easy_setopt(curl, CURLOPT_READDATA, &transfer);
      lib->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(BodySize(request)));
    } else {
      lib->easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
      lib->easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
    }
    if (request.method != "POST") {
      lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    }
  } else if (request.method != "GET") {
    lib->easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  // A 100-continue round trip costs a full RTT per PATCH and confuses some proxies.
  headers = lib->slist_append(headers, "Expect:");
  for (const auto& header : request.headers) {
    std::string line = header.name + ": " + header.value;
    headers = lib->slist_append(headers, line.c_str());
  }
  lib->easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  bool aborted = false;
  CURLcode code = impl_->Perform(&aborted);
  lib->slist_free_all(headers);
  // Nothing of the request may outlive this call inside the handle.
  lib->easy_setopt(curl, CURLOPT_HTTPHEADER, nullptr);

  if (code != CURLE_OK) {
    if (aborted || code == CURLE_ABORTED_BY_CALLBACK ||
        (code == CURLE_WRITE_ERROR && transfer.aborted_by_caller)) {
      return Cancelled(fmt::format("{} {}: aborted", request.method, request.url));
    }
    if (transfer.body_read_failed) {
      return Internal(fmt::format(
          "{} {}: reading the request body failed at byte {}: {}", request.method, request.url,
          transfer.body_sent,
          transfer.body_errno != 0 ? strerror(transfer.body_errno) : "file shorter than expected"));
    }
    std::string detail = impl_->error[0] != '\0' ? impl_->error : lib->easy_strerror(code);
    return Unavailable(fmt::format("{} {}: {}", request.method, request.url, detail));
  }
  lib->easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

std::string UrlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace stagehost::net
