// Jenkins remote access API client: one request helper with auth, cookies, crumbs and retries,
// then one method per endpoint.
#include "jenkins/client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdlib>
#include <regex>
#include <thread>

#include "net/retry.h"

namespace stagehost::jenkins {
namespace {

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v =
        (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// First line of a body, without HTML tags, for error messages.
std::string Snippet(const std::string& body) {
  std::string text = std::regex_replace(body, std::regex("<[^>]*>"), " ");
  text = std::regex_replace(text, std::regex("\\s+"), " ");
  while (!text.empty() && text.front() == ' ') text.erase(0, 1);
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text;
}

template <typename T>
T Get(const nlohmann::json& object, const char* key, T fallback) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return fallback;
  try {
    return it->get<T>();
  } catch (const nlohmann::json::exception&) {
    return fallback;
  }
}

}  // namespace

Result<Credentials> ResolveCredentials(std::string url, std::string user, std::string token) {
  if (url.empty()) url = Env("JENKINS_URL");
  if (user.empty()) user = Env("JENKINS_USER_ID");
  if (token.empty()) token = Env("JENKINS_API_TOKEN");
  std::vector<std::string> missing;
  if (url.empty()) missing.push_back("JENKINS_URL (or --url)");
  if (user.empty()) missing.push_back("JENKINS_USER_ID (or --user)");
  if (token.empty()) missing.push_back("JENKINS_API_TOKEN (or --token)");
  if (!missing.empty()) {
    return InvalidArgument(
        fmt::format("missing Jenkins credentials: set {}", fmt::join(missing, ", ")));
  }
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    return InvalidArgument("JENKINS_URL must start with http:// or https://, got '" + url + "'");
  }
  while (url.ends_with("/")) url.pop_back();
  return Credentials{url, user, token};
}

Result<std::string> JobPath(std::string_view full_name) {
  std::string path;
  size_t begin = 0;
  while (begin <= full_name.size()) {
    size_t end = full_name.find('/', begin);
    if (end == std::string_view::npos) end = full_name.size();
    std::string_view segment = full_name.substr(begin, end - begin);
    if (segment.empty() || segment == "." || segment == "..") {
      return InvalidArgument(
          fmt::format("job name '{}': expected folder/…/job with non-empty segments", full_name));
    }
    path += "/job/" + net::UrlEscape(segment);
    begin = end + 1;
  }
  return path;
}

Status HttpError(const net::Response& response, const std::string& what) {
  std::string detail = Snippet(response.body);
  switch (response.status) {
    case 401:
      return PermissionDenied(
          fmt::format("{}: HTTP 401, bad credentials: check JENKINS_USER_ID and JENKINS_API_TOKEN"
                      "{}",
                      what, detail.empty() ? "" : " (" + detail + ")"));
    case 403: {
      auto permission = response.Header("X-Required-Permission");
      if (permission) {
        return PermissionDenied(
            fmt::format("{}: HTTP 403, permission missing: {}", what, *permission));
      }
      return PermissionDenied(fmt::format("{}: HTTP 403: {}", what, detail));
    }
    case 404:
      return NotFound(fmt::format("{}: HTTP 404 not found", what));
    default:
      break;
  }
  std::string message =
      fmt::format("{}: HTTP {}{}", what, response.status, detail.empty() ? "" : ": " + detail);
  if (response.status >= 500 || net::IsRetryableStatus(response.status)) {
    return Unavailable(message);
  }
  return InvalidArgument(message);
}

Client::Client(ClientConfig config)
    : config_(std::move(config)),
      base_(config_.credentials.url),
      auth_header_("Basic " + Base64(config_.credentials.user + ":" + config_.credentials.token)),
      http_([this] {
        net::ClientOptions options;
        options.user_agent = "stagehost/" STAGEHOST_VERSION;
        options.abort = config_.abort;
        return options;
      }()) {}

std::string Client::BuildUrl(const std::string& job_path, std::int64_t number) const {
  return fmt::format("{}{}/{}/", base_, job_path, number);
}

void Client::Notice(const std::string& text) const {
  if (config_.on_notice) config_.on_notice(text);
}

Result<net::Response> Client::SendOnce(net::Request request, bool post) {
  request.timeouts = config_.timeouts;
  // Pre-emptive Basic auth on every request: Jenkins never challenges anonymous readers (§2).
  request.headers.push_back({"Authorization", auth_header_});
  if (!cookies_.empty()) {
    std::string jar;
    for (const auto& [name, value] : cookies_) {
      if (!jar.empty()) jar += "; ";
      jar += name + "=" + value;
    }
    request.headers.push_back({"Cookie", jar});
  }
  if (post && crumb_) request.headers.push_back({crumb_->first, crumb_->second});
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, http_.Send(request));
  // The crumb is bound to the session cookie the crumb issuer set (SECURITY-626).
  for (const auto& header : response.headers) {
    if (strcasecmp(header.name.c_str(), "Set-Cookie") != 0) continue;
    std::string pair = header.value.substr(0, header.value.find(';'));
    size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) continue;
    std::string name = pair.substr(0, eq);
    std::erase_if(cookies_, [&](const auto& c) { return c.first == name; });
    cookies_.emplace_back(name, pair.substr(eq + 1));
  }
  return response;
}

Result<net::Response> Client::Send(net::Request request, const std::function<Status()>& rewind) {
  const bool post = request.method == "POST";
  net::Backoff backoff(config_.retry_initial, config_.retry_max);
  bool crumb_refreshed = false;
  for (int attempt = 1;; ++attempt) {
    Result<net::Response> response = SendOnce(request, post);
    std::string problem;
    std::optional<std::chrono::milliseconds> wait;
    if (!response.ok()) {
      if (response.status().code() != StatusCode::kUnavailable) return response.status();
      problem = response.status().message();
    } else if (post && response->status == 403 &&
               response->body.find("No valid crumb") != std::string::npos && !crumb_refreshed) {
      // Password (or session) auth: API tokens are exempt from CSRF crumbs, so a crumb is fetched
      // only when the controller asks for one, and fetched again once when it goes stale.
      crumb_refreshed = true;
      STAGEHOST_RETURN_IF_ERROR(FetchCrumb());
      if (rewind) STAGEHOST_RETURN_IF_ERROR(rewind());
      --attempt;
      continue;
    } else if (net::IsRetryableStatus(response->status)) {
      problem = fmt::format("{} {}: HTTP {}", request.method, request.url, response->status);
      wait = net::ServerRequestedDelay(*response, std::chrono::system_clock::now());
    } else {
      return response;
    }
    if (attempt >= config_.max_attempts) {
      if (!response.ok()) return response.status();
      return response;
    }
    std::chrono::milliseconds delay = wait ? std::min(*wait, config_.retry_max) : backoff.Next();
    Notice(fmt::format("{}; retry {}/{} in {} ms", problem, attempt, config_.max_attempts - 1,
                       delay.count()));
    std::this_thread::sleep_for(delay);
    if (config_.abort != nullptr && config_.abort->load()) {
      return Cancelled(request.method + " " + request.url + ": aborted");
    }
    if (rewind) STAGEHOST_RETURN_IF_ERROR(rewind());
  }
}

Status Client::FetchCrumb() {
  net::Request request;
  request.url = base_ + "/crumbIssuer/api/json";
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, SendOnce(request, false));
  if (response.status == 404) {
    return PermissionDenied(
        "the controller refused the request for a missing crumb, but its crumb issuer is "
        "disabled (404)");
  }
  if (!response.ok()) return HttpError(response, "GET /crumbIssuer/api/json");
  try {
    nlohmann::json json = nlohmann::json::parse(response.body);
    crumb_ = std::make_pair(json.at("crumbRequestField").get<std::string>(),
                            json.at("crumb").get<std::string>());
  } catch (const nlohmann::json::exception& e) {
    return Unavailable(std::string("crumb issuer answered unexpected JSON: ") + e.what());
  }
  return Status::Ok();
}

Result<nlohmann::json> Client::GetJson(const std::string& path) {
  net::Request request;
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (!response.ok()) return HttpError(response, "GET " + path);
  try {
    return nlohmann::json::parse(response.body);
  } catch (const nlohmann::json::exception& e) {
    return Unavailable(fmt::format("GET {}: not JSON: {}", path, e.what()));
  }
}

Result<JobInfo> Client::GetJob(const std::string& job_path) {
  STAGEHOST_ASSIGN_OR_RETURN(
      nlohmann::json json,
      GetJson(job_path + "/api/json?tree=fullName,buildable,property[parameterDefinitions[name,"
                         "defaultParameterValue[value]]]"));
  JobInfo info;
  info.full_name = Get<std::string>(json, "fullName", "");
  info.buildable = Get<bool>(json, "buildable", true);
  if (auto props = json.find("property"); props != json.end() && props->is_array()) {
    for (const auto& prop : *props) {
      auto defs = prop.find("parameterDefinitions");
      if (defs == prop.end() || !defs->is_array()) continue;
      info.parameterised = true;
      for (const auto& def : *defs) {
        ParameterDefinition p;
        p.name = Get<std::string>(def, "name", "");
        if (auto dv = def.find("defaultParameterValue"); dv != def.end() && dv->is_object()) {
          auto value = dv->find("value");
          if (value != dv->end() && !value->is_null()) {
            p.default_value = value->is_string() ? value->get<std::string>() : value->dump();
          }
        }
        info.parameters.push_back(std::move(p));
      }
    }
  }
  return info;
}

Result<std::int64_t> Client::Trigger(const std::string& job_path,
                                     const std::vector<std::pair<std::string, std::string>>& params,
                                     bool with_parameters) {
  net::Request request;
  request.method = "POST";
  std::string path = job_path + (with_parameters ? "/buildWithParameters" : "/build");
  request.url = base_ + path;
  std::string form;
  for (const auto& [name, value] : params) {
    if (!form.empty()) form += "&";
    form += net::UrlEscape(name) + "=" + net::UrlEscape(value);
  }
  request.body = form;
  request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
  // Retrying a trigger is safe enough: the queue folds an identical request into the live item.
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (response.status == 409) {
    return InvalidArgument(
        fmt::format("POST {}: HTTP 409, the job is disabled or not buildable", path));
  }
  if (response.status != 201 && response.status != 303) {
    if (response.status == 302) {
      return Unavailable(fmt::format(
          "POST {}: HTTP 302, the controller did not schedule the build (no queue item)", path));
    }
    return HttpError(response, "POST " + path);
  }
  // Only the path of Location counts: its host comes from the request, not the root URL (§4).
  std::string location = response.Header("Location").value_or("");
  static const std::regex kQueueItem(R"(/queue/item/(\d+)/?$)");
  std::smatch match;
  if (!std::regex_search(location, match, kQueueItem)) {
    return Unavailable(fmt::format("POST {}: Location '{}' is not a queue item", path, location));
  }
  return std::stoll(match[1].str());
}

Result<std::optional<QueueItemState>> Client::GetQueueItem(std::int64_t id) {
  net::Request request;
  std::string path = fmt::format(
      "/queue/item/{}/api/json?tree=id,why,blocked,buildable,cancelled,executable[number,url]", id);
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (response.status == 404) return std::optional<QueueItemState>();
  if (!response.ok()) return HttpError(response, "GET " + path);
  try {
    nlohmann::json json = nlohmann::json::parse(response.body);
    QueueItemState item;
    item.id = id;
    item.why = Get<std::string>(json, "why", "");
    item.cancelled = Get<bool>(json, "cancelled", false);
    item.left = Get<std::string>(json, "_class", "").ends_with("$LeftItem");
    if (auto exe = json.find("executable"); exe != json.end() && exe->is_object()) {
      item.build_number = exe->at("number").get<std::int64_t>();
    }
    return std::optional<QueueItemState>(item);
  } catch (const nlohmann::json::exception& e) {
    return Unavailable(fmt::format("GET {}: unexpected JSON: {}", path, e.what()));
  }
}

Result<std::optional<std::int64_t>> Client::FindBuildByQueueId(const std::string& job_path,
                                                               std::int64_t queue_id) {
  // allBuilds, not builds: the latter stops at 100 (§5).
  STAGEHOST_ASSIGN_OR_RETURN(nlohmann::json json,
                             GetJson(job_path + "/api/json?tree=allBuilds[number,queueId]"));
  if (auto builds = json.find("allBuilds"); builds != json.end() && builds->is_array()) {
    for (const auto& build : *builds) {
      if (Get<std::int64_t>(build, "queueId", -1) == queue_id) {
        return std::optional<std::int64_t>(Get<std::int64_t>(build, "number", 0));
      }
    }
  }
  return std::optional<std::int64_t>();
}

Result<BuildInfo> Client::GetBuild(const std::string& job_path, std::int64_t number) {
  STAGEHOST_ASSIGN_OR_RETURN(
      nlohmann::json json,
      GetJson(fmt::format("{}/{}/api/json?tree=number,building,result,duration,queueId,"
                          "artifacts[fileName,relativePath]",
                          job_path, number)));
  BuildInfo info;
  info.number = Get<std::int64_t>(json, "number", number);
  info.building = Get<bool>(json, "building", true);
  if (auto result = json.find("result"); result != json.end() && result->is_string()) {
    info.result = result->get<std::string>();
  }
  info.duration_ms = Get<std::int64_t>(json, "duration", 0);
  info.queue_id = Get<std::int64_t>(json, "queueId", 0);
  if (auto artifacts = json.find("artifacts"); artifacts != json.end() && artifacts->is_array()) {
    for (const auto& a : *artifacts) {
      info.artifacts.push_back(
          {Get<std::string>(a, "fileName", ""), Get<std::string>(a, "relativePath", "")});
    }
  }
  return info;
}

Result<TextChunk> Client::ProgressiveText(const std::string& job_path, std::int64_t number,
                                          std::uint64_t start) {
  net::Request request;
  std::string path = fmt::format("{}/{}/logText/progressiveText?start={}", job_path, number, start);
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (!response.ok()) return HttpError(response, "GET " + path);
  TextChunk chunk;
  chunk.start = start;
  if (auto size = response.Header("X-Text-Size")) {
    char* end = nullptr;
    unsigned long long value = std::strtoull(size->c_str(), &end, 10);
    if (end != size->c_str() && *end == '\0') chunk.text_size = value;
  }
  auto more = response.Header("X-More-Data");
  chunk.more_data = more.has_value() && strcasecmp(more->c_str(), "true") == 0;
  chunk.body = std::move(response.body);
  return chunk;
}

Status Client::ConsoleText(const std::string& job_path, std::int64_t number,
                           const std::function<void(std::string_view)>& on_chunk,
                           const std::function<void()>& on_restart) {
  net::Request request;
  std::string path = fmt::format("{}/{}/consoleText", job_path, number);
  request.url = base_ + path;
  // The status is known only at the end: an error page reaches `on_chunk` too, and the caller
  // ignores what it got when this fails. Its start is kept for the message.
  std::string error_body;
  request.on_body = [&](std::string_view bytes) {
    on_chunk(bytes);
    if (error_body.size() < 4096) error_body.append(bytes.substr(0, 4096 - error_body.size()));
    return true;
  };
  auto rewind = [&]() -> Status {
    error_body.clear();
    on_restart();
    return Status::Ok();
  };
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request, rewind));
  if (!response.ok()) {
    response.body = std::move(error_body);
    return HttpError(response, "GET " + path);
  }
  return Status::Ok();
}

const char* StopModeName(StopMode mode) {
  switch (mode) {
    case StopMode::kStop:
      return "stop";
    case StopMode::kTerm:
      return "term";
    case StopMode::kKill:
      return "kill";
  }
  return "stop";
}

Status Client::StopBuild(const std::string& job_path, std::int64_t number, StopMode mode) {
  net::Request request;
  request.method = "POST";
  std::string path = fmt::format("{}/{}/{}", job_path, number, StopModeName(mode));
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  // 302 to the build page is success, also when nothing was running (§9).
  if (response.ok() || response.status == 302 || response.status == 303) return Status::Ok();
  return HttpError(response, "POST " + path);
}

Status Client::CancelQueueItem(std::int64_t id) {
  net::Request request;
  request.method = "POST";
  std::string path = fmt::format("/queue/cancelItem?id={}", id);
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (response.status == 204 || response.ok() || response.status == 302) return Status::Ok();
  return HttpError(response, "POST " + path);
}

Status Client::DownloadArtifact(const std::string& job_path, std::int64_t number,
                                const std::string& relative_path,
                                const std::filesystem::path& destination) {
  std::string encoded;
  size_t begin = 0;
  while (begin <= relative_path.size()) {
    size_t end = relative_path.find('/', begin);
    if (end == std::string::npos) end = relative_path.size();
    if (!encoded.empty()) encoded += "/";
    encoded += net::UrlEscape(std::string_view(relative_path).substr(begin, end - begin));
    begin = end + 1;
  }
  std::string path = fmt::format("{}/{}/artifact/{}", job_path, number, encoded);
  std::filesystem::path partial = destination;
  partial += ".part";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return ErrnoStatus("creating " + partial.string(), errno);
  Status write_error;
  net::Request request;
  request.url = base_ + path;
  // The body goes to disk as it arrives; an error page is recognised by status afterwards.
  request.on_body = [&](std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        write_error = ErrnoStatus("writing " + partial.string(), errno);
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  };
  auto rewind = [&]() -> Status {
    if (::ftruncate(fd, 0) != 0 || ::lseek(fd, 0, SEEK_SET) != 0) {
      return ErrnoStatus("truncating " + partial.string(), errno);
    }
    return Status::Ok();
  };
  Result<net::Response> response = Send(request, rewind);
  bool closed = ::close(fd) == 0;
  Status status;
  if (!write_error.ok()) {
    status = write_error;
  } else if (!response.ok()) {
    status = response.status();
  } else if (response->status != 200) {
    response->body = "";  // the error page went to the file
    status = HttpError(*response, "GET " + path);
  } else if (!closed) {
    status = ErrnoStatus("closing " + partial.string(), errno);
  }
  std::error_code ec;
  if (!status.ok()) {
    std::filesystem::remove(partial, ec);
    return status;
  }
  std::filesystem::rename(partial, destination, ec);
  if (ec) return Internal("renaming " + partial.string() + ": " + ec.message());
  return Status::Ok();
}

Result<std::optional<nlohmann::json>> Client::GetTestReport(const std::string& job_path,
                                                            std::int64_t number) {
  std::string path = fmt::format(
      "{}/{}/testReport/api/json?tree=duration,passCount,failCount,skipCount,suites[name,"
      "duration,cases[className,name,status,duration,errorDetails,errorStackTrace,"
      "skippedMessage]]",
      job_path, number);
  net::Request request;
  request.url = base_ + path;
  STAGEHOST_ASSIGN_OR_RETURN(net::Response response, Send(request));
  if (response.status == 404) return std::optional<nlohmann::json>();
  if (!response.ok()) return HttpError(response, "GET " + path);
  try {
    return std::optional<nlohmann::json>(nlohmann::json::parse(response.body));
  } catch (const nlohmann::json::exception& e) {
    return Unavailable(fmt::format("GET {}: not JSON: {}", path, e.what()));
  }
}

}  // namespace stagehost::jenkins
