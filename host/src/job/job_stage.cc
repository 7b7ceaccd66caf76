// JobStageOptions: STAGEHOST_CONFIG and STAGEHOST_SET resolution and the stage run's settings
// inside a CI job.
#include "job/job_stage.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "plugin/config_source.h"
#include "plugin/plugin_catalog.h"

namespace stagehost {

Result<StageRunOptions> JobStageOptions(const JobStageRequest& request) {
  StageRunOptions options;
  options.stage = request.stage;
  options.workspace = request.project_dir;
  if (!request.config.empty()) {
    std::string value = request.config;
    bool inline_text =
        value.find('\n') != std::string::npos || value.find_first_not_of(" \t") == value.find('{');
    if (!inline_text && value[0] != '/') value = (request.project_dir / value).string();
    Result<nlohmann::json> loaded = LoadConfig(value);
    if (!loaded.ok()) return loaded.status().WithContext("STAGEHOST_CONFIG");
    options.config = std::move(loaded).value();
  }
  // As in an environment block, the last definition of the variable is the one that counts.
  constexpr std::string_view kSet = "STAGEHOST_SET=";
  auto set = std::find_if(request.env.rbegin(), request.env.rend(),
                          [&](const std::string& variable) { return variable.starts_with(kSet); });
  if (set != request.env.rend()) {
    Status applied = ApplyOverrideLines(options.config, std::string_view(*set).substr(kSet.size()));
    if (!applied.ok()) return applied;
  }
  options.timeout = request.timeout;
  options.cancel_grace = std::min(request.kill_grace, std::chrono::milliseconds(5000));
  options.kill_grace = request.kill_grace;
  options.cancel_fd = request.cancel_fd;
  options.env = request.env;
  for (const char* name : {"PATH", "HOME", "LANG", "TMPDIR"}) {
    if (const char* value = std::getenv(name)) {
      options.env.push_back(fmt::format("{}={}", name, value));
    }
  }
  options.catalog.search_path = DefaultPluginSearchPath();
  options.catalog.worker.memory_limit_bytes = request.memory_limit_bytes;
  return options;
}

}  // namespace stagehost
