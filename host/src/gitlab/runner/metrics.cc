// RunnerMetrics rendering and the poll-based /metrics HTTP server.
#include "gitlab/runner/metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>

namespace stagehost::gitlab {

namespace {

constexpr std::string_view kPrefix = "stagehost_runner_";
constexpr size_t kMaxRequestBytes = 8192;
constexpr int kReadLimitMs = 5000;

std::string EscapeHelp(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

// Writes all of `data`, waiting when the socket is full; false when the peer went away.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd, POLLOUT, 0};
        if (poll(&p, 1, kReadLimitMs) <= 0) return false;
        continue;
      }
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

Status ParseListenAddress(const std::string& address, std::string* host, std::string* port) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return InvalidConfig(fmt::format("listen_address \"{}\": expected host:port", address));
  }
  *host = address.substr(0, colon);
  *port = address.substr(colon + 1);
  if (host->size() >= 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  if (port->empty() || port->find_first_not_of("0123456789") != std::string::npos ||
      port->size() > 5 || std::stoi(*port) > 65535) {
    return InvalidConfig(fmt::format("listen_address \"{}\": bad port", address));
  }
  return Status::Ok();
}

}  // namespace

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

RunnerMetrics::RunnerMetrics() {
  Register("jobs_running", "gauge", "Jobs this runner is executing now.", {});
  Register("jobs_finished_total", "counter", "Jobs finished, by final state.", {"state"});
  Register("trace_bytes_sent_total", "counter", "Job log bytes GitLab accepted.", {});
  Register("api_requests_total", "counter",
           "GitLab API requests, by endpoint and HTTP status (0: no answer).",
           {"endpoint", "status"});
  Register("retries_total", "counter", "Retried operations, by kind.", {"kind"});
  Register("errors_total", "counter", "Runner errors, by kind.", {"kind"});
}

void RunnerMetrics::Register(std::string name, std::string type, std::string help,
                             std::vector<std::string> label_names) {
  Family family{std::move(help), std::move(type), std::move(label_names), {}};
  if (family.label_names.empty()) family.values[{}] = 0;
  families_.emplace(std::string(kPrefix) + name, std::move(family));
}

RunnerMetrics::Family* RunnerMetrics::Find(std::string_view name) {
  auto it = families_.find(name);
  if (it == families_.end()) it = families_.find(std::string(kPrefix) + std::string(name));
  return it == families_.end() ? nullptr : &it->second;
}

void RunnerMetrics::Add(std::string_view name, const std::vector<std::string>& label_values,
                        double delta) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family* family = Find(name);
  if (family == nullptr || family->label_names.size() != label_values.size()) return;
  family->values[label_values] += delta;
}

void RunnerMetrics::Set(std::string_view name, const std::vector<std::string>& label_values,
                        double value) {
  std::lock_guard<std::mutex> lock(mutex_);
  Family* family = Find(name);
  if (family == nullptr || family->label_names.size() != label_values.size()) return;
  family->values[label_values] = value;
}

void RunnerMetrics::JobStarted() { Add("jobs_running", {}, 1); }

void RunnerMetrics::JobFinished(std::string_view state) {
  std::lock_guard<std::mutex> lock(mutex_);
  Find("jobs_running")->values[{}] -= 1;
  Find("jobs_finished_total")->values[{std::string(state)}] += 1;
}

void RunnerMetrics::TraceBytesSent(uint64_t bytes) {
  Add("trace_bytes_sent_total", {}, static_cast<double>(bytes));
}

void RunnerMetrics::ApiRequest(std::string_view endpoint, int status) {
  Add("api_requests_total", {std::string(endpoint), std::to_string(status)}, 1);
}

void RunnerMetrics::Retry(std::string_view kind) { Add("retries_total", {std::string(kind)}, 1); }

void RunnerMetrics::Error(std::string_view kind) { Add("errors_total", {std::string(kind)}, 1); }

std::string RunnerMetrics::Render() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(family.help), name,
                       family.type);
    for (const auto& [labels, value] : family.values) {
      out += name;
      if (!labels.empty()) {
        out += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
          out += fmt::format("{}{}=\"{}\"", i == 0 ? "" : ",", family.label_names[i],
                             EscapeLabelValue(labels[i]));
        }
        out += '}';
      }
      out += ' ';
      out += FormatValue(value);
      out += '\n';
    }
  }
  return out;
}

MetricsServer::MetricsServer(const RunnerMetrics& metrics, UniqueFd listen_fd, UniqueFd wake_read,
                             UniqueFd wake_write, int port)
    : metrics_(metrics),
      listen_fd_(std::move(listen_fd)),
      wake_read_(std::move(wake_read)),
      wake_write_(std::move(wake_write)),
      port_(port) {}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen_address,
                                                            const RunnerMetrics& metrics) {
  std::string host, port;
  STAGEHOST_RETURN_IF_ERROR(ParseListenAddress(listen_address, &host, &port));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return InvalidConfig(
        fmt::format("listen_address \"{}\": {}", listen_address, gai_strerror(rc)));
  }
  UniqueFd fd;
  int last_errno = 0;
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    UniqueFd candidate(socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!candidate.valid()) {
      last_errno = errno;
      continue;
    }
    int one = 1;
    setsockopt(candidate.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(candidate.get(), ai->ai_addr, ai->ai_addrlen) == 0 &&
        listen(candidate.get(), 16) == 0) {
      fd = std::move(candidate);
      break;
    }
    last_errno = errno;
  }
  freeaddrinfo(found);
  if (!fd.valid()) return ErrnoStatus(fmt::format("listening on {}", listen_address), last_errno);

  sockaddr_storage bound{};
  socklen_t length = sizeof bound;
  getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &length);
  int bound_port = bound.ss_family == AF_INET6
                       ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                       : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) return ErrnoStatus("metrics wake pipe", errno);
  std::unique_ptr<MetricsServer> server(new MetricsServer(
      metrics, std::move(fd), UniqueFd(pipe_fds[0]), UniqueFd(pipe_fds[1]), bound_port));
  server->thread_ = std::thread([raw = server.get()] { raw->Serve(); });
  return server;
}

MetricsServer::~MetricsServer() { Stop(); }

void MetricsServer::Stop() {
  if (stopped_.exchange(true)) return;
  char byte = 1;
  [[maybe_unused]] ssize_t n = write(wake_write_.get(), &byte, 1);
  if (thread_.joinable()) thread_.join();
  listen_fd_.Reset(-1);
}

void MetricsServer::Serve() {
  while (true) {
    pollfd fds[2] = {{listen_fd_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    int rc = poll(fds, 2, -1);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 || (fds[1].revents & POLLIN) != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    UniqueFd client(accept4(listen_fd_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!client.valid()) continue;  // the peer left between poll and accept, or EMFILE: next round
    Answer(client.get());
  }
}

void MetricsServer::Answer(int fd) {
  std::string request;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kReadLimitMs);
  while (request.find("\r\n\r\n") == std::string::npos &&
         request.find("\n\n") == std::string::npos) {
    if (request.size() > kMaxRequestBytes) return;
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now())
                                    .count());
    if (left <= 0) return;
    // Stop() must not wait for a slow client: the wake pipe is watched here too.
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
    if (poll(fds, 2, left) <= 0 || (fds[1].revents & POLLIN) != 0) return;
    char buffer[2048];
    ssize_t n = recv(fd, buffer, sizeof buffer, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    request.append(buffer, static_cast<size_t>(n));
  }
  std::string_view line(request);
  line = line.substr(0, line.find_first_of("\r\n"));
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  std::string_view method = line.substr(0, sp1);
  std::string_view target =
      sp1 == std::string_view::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));

  int code = 200;
  std::string reason = "OK";
  std::string body;
  std::string type = "text/plain; charset=utf-8";
  if (method != "GET" && method != "HEAD") {
    code = 405;
    reason = "Method Not Allowed";
    body = "only GET and HEAD\n";
  } else if (target != "/metrics") {
    code = 404;
    reason = "Not Found";
    body = "404 page not found\n";
  } else {
    body = metrics_.Render();
    type = "text/plain; version=0.0.4; charset=utf-8";
  }
  std::string head = fmt::format(
      "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n",
      code, reason, type, body.size(), code == 405 ? "Allow: GET, HEAD\r\n" : "");
  if (!WriteAll(fd, head)) return;
  if (method != "HEAD") WriteAll(fd, body);
}

}  // namespace stagehost::gitlab
