// RunStage: the CI-agnostic stage run every integration uses (run, custom executor, runner).
#pragma once

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "artifacts/artifact_check.h"
#include "job/stage_log.h"
#include "job/stage_outcome.h"
#include "plugin/plugin_catalog.h"
#include "plugin/plugin_info.h"

namespace stagehost {

struct StageRunOptions {
  std::string stage;                  // a stage type or a plugin name
  std::optional<std::string> plugin;  // --plugin
  nlohmann::json config = nlohmann::json::object();
  std::filesystem::path workspace;       // default: the current directory
  std::filesystem::path artifact_dir;    // default: <workspace>/stagehost-reports/<plugin name>
  std::chrono::milliseconds timeout{0};  // 0 = none
  std::chrono::milliseconds cancel_grace{10000};
  std::chrono::milliseconds kill_grace{5000};
  int cancel_fd = -1;  // readable once the user cancels
  bool in_process = false;
  // Plugin log writes above this STAGEHOST_LEVEL_* are dropped (the worker's raw output never is).
  uint32_t max_log_level = STAGEHOST_LEVEL_INFO;
  std::vector<std::string> env;  // "KEY=VALUE" given to the plugin
  CatalogOptions catalog;
};

// What happened, as data: the exit code follows from `status` alone (ExitCodeFor).
struct StageReport {
  std::optional<PluginInfo> plugin;
  StageStatus status = StageStatus::kHostError;
  std::string message;
  std::filesystem::path artifact_dir;
  std::vector<ArtifactRecord> artifacts;
  nlohmann::json outputs = nlohmann::json::object();
  double seconds = 0;
  std::optional<ResourceUsage> worker_usage;  // absent in-process or when no worker ran
  uint64_t host_peak_rss_kib = 0;
};

// Selects the plugin, validates the config against its schema, runs it (worker process unless
// in_process) and writes <artifact_dir>/stagehost-run.json. Everything the stage writes goes
// through `log`; stagehost's own messages too, ending with one summary line. Never fails: errors
// are part of the report.
StageReport RunStage(const StageRunOptions& options, StageLog& log);

nlohmann::json StageReportJson(const StageReport& report);

}  // namespace stagehost
