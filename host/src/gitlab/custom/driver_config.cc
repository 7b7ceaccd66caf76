// TOML parsing of the driver configuration, with every problem reported at once.
#include "gitlab/custom/driver_config.h"

#include <fmt/format.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <set>
#include <vector>

#include "gitlab/toml_reader.h"

namespace stagehost::gitlab {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSystemConfig = "/etc/stagehost/custom-executor.toml";

}  // namespace

Result<DriverConfig> LoadDriverConfig(const std::optional<fs::path>& path) {
  DriverConfig config;
  std::optional<fs::path> file = path;
  if (!file) {
    if (const char* env = std::getenv("STAGEHOST_CUSTOM_CONFIG"); env != nullptr && *env != '\0') {
      file = fs::path(env);
    } else if (std::error_code ec; fs::exists(kSystemConfig, ec)) {
      file = fs::path(kSystemConfig);
    }
  }
  if (!file) return config;

  toml::table root;
  try {
    root = toml::parse_file(file->string());
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: {}", file->string(), e.source().begin.line,
                                       e.source().begin.column, e.description()));
  }
  TomlReader reader(file->string());
  reader.Path(root, "builds_dir", config.builds_dir);
  reader.Path(root, "cache_dir", config.cache_dir);
  reader.Bool(root, "keep_builds", config.keep_builds);
  reader.String(root, "shell", config.shell);
  reader.Seconds(root, "kill_grace_seconds", config.kill_grace);
  reader.Unknown(root, {"builds_dir", "cache_dir", "keep_builds", "shell", "kill_grace_seconds",
                        "limits", "stage"});
  if (const toml::table* limits = root["limits"].as_table()) {
    reader.Within("limits.");
    reader.Count(*limits, "open_files", config.limits.open_files);
    reader.Count(*limits, "processes", config.limits.processes);
    uint64_t memory_mib = 0;
    reader.Count(*limits, "memory_mib", memory_mib);
    config.limits.memory_bytes = memory_mib << 20;
    reader.Count(*limits, "cpu_seconds", config.limits.cpu_seconds);
    reader.Bool(*limits, "core_dumps", config.limits.core_dumps);
    reader.Unknown(*limits, {"open_files", "processes", "memory_mib", "cpu_seconds", "core_dumps"});
  }
  if (const toml::table* stage = root["stage"].as_table()) {
    reader.Within("stage.");
    reader.Seconds(*stage, "timeout_seconds", config.stage_timeout);
    reader.Count(*stage, "log_limit_bytes", config.stage_log_limit);
    reader.Unknown(*stage, {"timeout_seconds", "log_limit_bytes"});
  }
  if (!reader.problems().empty()) {
    std::string message = "invalid driver configuration:";
    for (const std::string& problem : reader.problems()) message += "\n" + problem;
    return InvalidArgument(message);
  }
  return config;
}

}  // namespace stagehost::gitlab
