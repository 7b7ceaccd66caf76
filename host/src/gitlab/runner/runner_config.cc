// config.toml of the native runner: gitlab-runner's keys, plus [runners.stagehost].
#include "gitlab/runner/runner_config.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "gitlab/toml_reader.h"

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;

void ReadStagehostTable(TomlReader& reader, const toml::table& table, RunnerEntry& entry) {
  reader.Bool(table, "timestamps", entry.timestamps);
  reader.Seconds(table, "kill_grace_seconds", entry.kill_grace);
  reader.Seconds(table, "after_script_timeout_seconds", entry.after_script_timeout);
  reader.Seconds(table, "final_update_horizon_seconds", entry.final_update_horizon);
  reader.Seconds(table, "cancel_check_seconds", entry.cancel_check_interval);
  reader.Seconds(table, "request_idle_timeout_seconds", entry.request_idle_timeout);
  reader.Seconds(table, "not_found_horizon_seconds", entry.not_found_horizon);
  reader.Seconds(table, "trace_interval_min_seconds", entry.trace_interval_min);
  reader.Seconds(table, "trace_interval_max_seconds", entry.trace_interval_max);
  reader.Seconds(table, "trace_interval_initial_seconds", entry.trace_interval_initial);
  reader.Unknown(table, {"timestamps", "kill_grace_seconds", "after_script_timeout_seconds",
                         "final_update_horizon_seconds", "cancel_check_seconds",
                         "request_idle_timeout_seconds", "not_found_horizon_seconds",
                         "trace_interval_min_seconds", "trace_interval_max_seconds",
                         "trace_interval_initial_seconds"});
}

void ReadRunner(TomlReader& reader, const toml::table& table, const fs::path& config_dir,
                RunnerEntry& entry) {
  reader.String(table, "name", entry.name);
  reader.String(table, "url", entry.url);
  reader.String(table, "token", entry.token);
  uint64_t id = 0;
  reader.Count(table, "id", id);
  entry.id = static_cast<int64_t>(id);
  if (const toml::node* node = table.get("token_expires_at")) {
    if (auto text = node->value<std::string>()) entry.token_expires_at = *text;
  }
  reader.Count(table, "limit", entry.limit);
  reader.Count(table, "output_limit", entry.output_limit_kib);
  reader.Path(table, "builds_dir", entry.builds_dir);
  reader.Path(table, "cache_dir", entry.cache_dir);
  reader.Count(table, "request_concurrency", entry.request_concurrency);
  reader.Path(table, "tls-ca-file", entry.tls_ca_file);
  if (const toml::node* node = table.get("environment")) {
    const toml::array* list = node->as_array();
    bool ok = list != nullptr;
    if (ok) {
      for (const toml::node& item : *list) {
        auto text = item.value<std::string>();
        if (!text || text->find('=') == std::string::npos || text->front() == '=') {
          ok = false;
          break;
        }
        entry.environment.push_back(*text);
      }
    }
    if (!ok) reader.Problem(node, "environment", "must be a list of \"KEY=VALUE\" strings");
  }
  if (const toml::node* node = table.get("executor")) {
    if (node->value<std::string>().value_or("") != "stagehost") {
      reader.Problem(node, "executor", "must be \"stagehost\" (or left out)");
    }
  }
  reader.Unknown(table, {"name", "url", "token", "id", "token_expires_at", "limit", "output_limit",
                         "builds_dir", "cache_dir", "request_concurrency", "tls-ca-file",
                         "environment", "executor", "stagehost"});
  if (const toml::table* extra = table["stagehost"].as_table()) {
    ReadStagehostTable(reader, *extra, entry);
  }
  if (entry.builds_dir.empty()) entry.builds_dir = config_dir / "builds";
  if (entry.cache_dir.empty()) entry.cache_dir = config_dir / "cache";
  if (entry.request_concurrency == 0) entry.request_concurrency = 1;
}

Status CheckRunner(const RunnerEntry& entry, size_t index) {
  std::string where = fmt::format("[[runners]] #{}", index + 1);
  if (entry.url.empty()) return InvalidArgument(where + ": url is required");
  if (entry.url.rfind("http://", 0) != 0 && entry.url.rfind("https://", 0) != 0) {
    return InvalidArgument(where + ": url must start with http:// or https://");
  }
  if (entry.token.empty()) return InvalidArgument(where + ": token is required");
  if (entry.output_limit_kib == 0) return InvalidArgument(where + ": output_limit must be > 0");
  if (entry.trace_interval_min > entry.trace_interval_max) {
    return InvalidArgument(where +
                           ": trace_interval_min_seconds exceeds trace_interval_max_seconds");
  }
  return Status::Ok();
}

}  // namespace

fs::path DefaultRunnerConfigPath() {
  if (const char* env = std::getenv("STAGEHOST_RUNNER_CONFIG"); env != nullptr && *env != '\0') {
    return env;
  }
  if (::geteuid() == 0) return "/etc/stagehost/config.toml";
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".stagehost" / "config.toml";
}

Result<RunnerConfig> LoadRunnerConfig(const fs::path& file) {
  struct stat st;
  if (::stat(file.c_str(), &st) != 0) {
    return NotFound(fmt::format("{}: no such file (create it with `stagehost gitlab register`)",
                                file.string()));
  }
  if ((st.st_mode & 0077) != 0) {
    return PermissionDenied(
        fmt::format("{}: mode {:o} lets others read the runner tokens; run chmod 600 on it",
                    file.string(), st.st_mode & 0777));
  }
  toml::table root;
  try {
    root = toml::parse_file(file.string());
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file.string(), e.source().begin.line,
                                       e.source().begin.column, e.description()));
  }
  RunnerConfig config;
  config.file = file;
  TomlReader reader(file.string());
  reader.Count(root, "concurrent", config.concurrent);
  reader.Seconds(root, "check_interval", config.check_interval);
  reader.Seconds(root, "shutdown_timeout", config.shutdown_timeout);
  reader.String(root, "listen_address", config.listen_address);
  reader.Count(root, "status_checks_per_second", config.status_checks_per_second);
  reader.Unknown(root, {"concurrent", "check_interval", "shutdown_timeout", "listen_address",
                        "status_checks_per_second", "runners", "log_level", "log_format"});
  fs::path config_dir = fs::absolute(file).parent_path();
  if (const toml::node* node = root.get("runners")) {
    const toml::array* runners = node->as_array();
    if (runners == nullptr) {
      reader.Problem(node, "runners", "must be an array of tables ([[runners]])");
    } else {
      for (size_t i = 0; i < runners->size(); ++i) {
        const toml::table* table = (*runners)[i].as_table();
        if (table == nullptr) continue;
        reader.Within(fmt::format("runners[{}].", i));
        RunnerEntry entry;
        ReadRunner(reader, *table, config_dir, entry);
        config.runners.push_back(std::move(entry));
      }
    }
  }
  if (!reader.problems().empty()) {
    std::string message = "invalid runner configuration:";
    for (const std::string& problem : reader.problems()) message += "\n" + problem;
    return InvalidArgument(message);
  }
  if (config.concurrent == 0) config.concurrent = 1;
  if (config.runners.empty()) {
    return InvalidArgument(file.string() +
                           ": no [[runners]] (add one with `stagehost gitlab register`)");
  }
  for (size_t i = 0; i < config.runners.size(); ++i) {
    STAGEHOST_RETURN_IF_ERROR(CheckRunner(config.runners[i], i).WithContext(file.string()));
  }
  return config;
}

Status AddRunnerToConfig(const fs::path& file, const RunnerEntry& entry) {
  toml::table root;
  std::error_code ec;
  if (fs::exists(file, ec)) {
    try {
      root = toml::parse_file(file.string());
    } catch (const toml::parse_error& e) {
      return InvalidArgument(fmt::format("{}:{}: {}; not changed", file.string(),
                                         e.source().begin.line, e.description()));
    }
  } else {
    root.insert("concurrent", 4);
    root.insert("check_interval", 3);
    root.insert("shutdown_timeout", 30);
  }
  toml::table runner;
  runner.insert("name", entry.name);
  runner.insert("url", entry.url);
  runner.insert("id", entry.id);
  runner.insert("token", entry.token);
  if (!entry.token_expires_at.empty()) runner.insert("token_expires_at", entry.token_expires_at);
  runner.insert("executor", "stagehost");
  runner.insert("limit", static_cast<int64_t>(entry.limit));
  runner.insert("output_limit", static_cast<int64_t>(entry.output_limit_kib));
  runner.insert("request_concurrency", static_cast<int64_t>(entry.request_concurrency));
  if (!entry.builds_dir.empty()) runner.insert("builds_dir", entry.builds_dir.string());
  if (!entry.cache_dir.empty()) runner.insert("cache_dir", entry.cache_dir.string());
  if (!entry.tls_ca_file.empty()) runner.insert("tls-ca-file", entry.tls_ca_file.string());

  toml::array* runners = root["runners"].as_array();
  if (runners == nullptr) {
    root.insert_or_assign("runners", toml::array{});
    runners = root["runners"].as_array();
  }
  for (size_t i = 0; i < runners->size();) {
    const toml::table* existing = (*runners)[i].as_table();
    if (existing != nullptr && (*existing)["url"].value<std::string>().value_or("") == entry.url &&
        (*existing)["token"].value<std::string>().value_or("") == entry.token) {
      runners->erase(runners->begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
  runners->push_back(std::move(runner));

  std::ostringstream text;
  text << "# stagehost native GitLab runner (see ci-templates/gitlab/runner/)\n" << root << "\n";
  fs::create_directories(fs::absolute(file).parent_path(), ec);
  fs::path temp = file;
  temp += ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return ErrnoStatus("creating " + temp.string(), errno);
  ::fchmod(fd, 0600);
  std::string data = text.str();
  ssize_t written = ::write(fd, data.data(), data.size());
  int sync = ::fsync(fd);
  ::close(fd);
  if (written != static_cast<ssize_t>(data.size()) || sync != 0) {
    ::unlink(temp.c_str());
    return Internal("writing " + temp.string() + " failed");
  }
  if (::rename(temp.c_str(), file.c_str()) != 0)
    return ErrnoStatus("renaming to " + file.string(), errno);
  return Status::Ok();
}

}  // namespace stagehost::gitlab
