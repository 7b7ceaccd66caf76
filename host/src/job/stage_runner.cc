// The stage run: select, validate, run, record.
#include "job/stage_runner.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <thread>

#include "plugin/config_schema.h"
#include "plugin/host_context.h"
#include "plugin/library_loader.h"

namespace stagehost {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Plugin callbacks on the host side: logs to the StageLog, artifacts checked and hashed here,
// progress shown at most once a second, outputs kept for the report.
class StageEvents : public RunEvents {
 public:
  StageEvents(StageLog& log, fs::path artifact_dir, uint32_t max_log_level)
      : log_(log), artifact_dir_(std::move(artifact_dir)), max_log_level_(max_log_level) {}

  void OnLog(uint32_t stream, uint32_t level, std::string_view bytes) override {
    if (stream != kRawOutputStream && level > max_log_level_) return;
    log_.Write(stream, bytes);
  }

  Status OnArtifact(std::string_view rel_path, std::string_view name,
                    std::string_view media_type) override {
    Result<ArtifactRecord> record = CheckArtifact(artifact_dir_, rel_path, name, media_type);
    if (!record.ok()) {
      log_.Message(fmt::format("refused artifact: {}", record.status().message()));
      return record.status();
    }
    std::lock_guard<std::mutex> lock(mutex_);
    // Announcing a file again (rewritten) replaces its record.
    for (ArtifactRecord& existing : artifacts_) {
      if (existing.rel_path == record->rel_path) {
        existing = std::move(record).value();
        return Status::Ok();
      }
    }
    artifacts_.push_back(std::move(record).value());
    return Status::Ok();
  }

  void OnProgress(uint32_t permille, std::string_view message) override {
    auto now = std::chrono::steady_clock::now();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (permille < 1000 && now - last_progress_ < std::chrono::seconds(1)) return;
      last_progress_ = now;
    }
    log_.Message(fmt::format("progress {}.{}%{}{}", permille / 10, permille % 10,
                             message.empty() ? "" : ": ", message));
  }

  void OnOutput(std::string_view key, std::string_view json_text) override {
    std::lock_guard<std::mutex> lock(mutex_);
    outputs_[std::string(key)] = json::parse(json_text, nullptr, false);
  }

  std::vector<ArtifactRecord> TakeArtifacts() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(artifacts_);
  }
  json TakeOutputs() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(outputs_);
  }

 private:
  StageLog& log_;
  fs::path artifact_dir_;
  uint32_t max_log_level_;
  std::mutex mutex_;
  std::vector<ArtifactRecord> artifacts_;
  json outputs_ = json::object();
  std::chrono::steady_clock::time_point last_progress_{};
};

std::string DescribeDuration(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{} s", ms.count() / 1000);
  return fmt::format("{:.3f} s", static_cast<double>(ms.count()) / 1000.0);
}

uint64_t UnixMillisNow() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// --in-process: the plugin runs on this thread; a watcher turns cancel and timeout into the flag
// and request_cancel. Nothing can stop a plugin that ignores them: that is what workers are for.
// The file is the one the catalog verified and described: its fd, not its path, is loaded.
PluginVerdict RunInProcess(const CatalogEntry& entry, const RunRequest& request, RunEvents& events,
                           const RunControl& control) {
  Result<LoadedPlugin> loaded =
      LoadPluginLibrary("/proc/self/fd/" + std::to_string(entry.fd.get()), entry.path.string());
  if (!loaded.ok()) return {STAGEHOST_PLUGIN_ERROR, loaded.status().message(), "load"};

  HostContext context(&events);
  int stop_pipe[2];
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) return {STAGEHOST_PLUGIN_ERROR, "pipe failed", "load"};
  bool timed_out = false;
  std::thread watcher([&] {
    for (;;) {
      int wait_ms = 1000;
      if (control.deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            *control.deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
          timed_out = true;
          context.Cancel();
          return;
        }
        wait_ms = static_cast<int>(std::min<int64_t>(left.count() + 1, 1000));
      }
      struct pollfd fds[2] = {{stop_pipe[0], POLLIN, 0}, {control.cancel_fd, POLLIN, 0}};
      if (::poll(fds, 2, wait_ms) > 0) {
        if (fds[0].revents != 0) return;
        if (fds[1].revents != 0) {
          context.Cancel();
          return;
        }
      }
    }
  });
  PluginVerdict verdict = CallPlugin(loaded->descriptor, request, context);
  (void)!::write(stop_pipe[1], "x", 1);
  watcher.join();
  ::close(stop_pipe[0]);
  ::close(stop_pipe[1]);
  if (timed_out && (verdict.status == STAGEHOST_CANCELLED || verdict.status == STAGEHOST_OK)) {
    verdict = {STAGEHOST_TIMEOUT, "timed out after " + control.timeout_description, "run"};
  }
  return verdict;
}

// VmHWM of this process's own memory map: unlike getrusage(), not inherited from whatever
// process spawned us.
uint64_t HostPeakRssKib() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

void WriteRunRecord(StageReport& report, StageLog& log) {
  report.host_peak_rss_kib = HostPeakRssKib();
  fs::path path = report.artifact_dir / "stagehost-run.json";
  std::ofstream out(path, std::ios::trunc);
  out << StageReportJson(report).dump(2) << '\n';
  out.close();
  if (!out) log.Message(fmt::format("warning: cannot write {}", path.string()));
}

}  // namespace

json StageReportJson(const StageReport& report) {
  json artifacts = json::array();
  for (const ArtifactRecord& a : report.artifacts) {
    artifacts.push_back({{"path", a.rel_path},
                         {"name", a.name},
                         {"media_type", a.media_type},
                         {"size", a.size},
                         {"sha256", a.sha256}});
  }
  json plugin = nullptr;
  if (report.plugin) {
    plugin = json(*report.plugin);
    plugin.erase("config_schema");
  }
  json resources = {{"host_peak_rss_kib", report.host_peak_rss_kib}};
  if (report.worker_usage) {
    resources["worker_peak_rss_kib"] = report.worker_usage->max_rss_kib;
    resources["worker_user_cpu_seconds"] = report.worker_usage->user_seconds;
    resources["worker_system_cpu_seconds"] = report.worker_usage->system_seconds;
  }
  return json{{"plugin", plugin},
              {"status", std::string(StageStatusName(report.status))},
              {"exit_code", ExitCodeFor(report.status)},
              {"message", report.message},
              {"seconds", report.seconds},
              {"artifacts", artifacts},
              {"outputs", report.outputs},
              {"resources", resources}};
}

namespace {

StageReport RunStageOnce(const StageRunOptions& options, StageLog& log) {
  auto started = std::chrono::steady_clock::now();
  StageReport report;
  auto finish = [&](StageStatus status, std::string message) {
    report.status = status;
    report.message = std::move(message);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return report;
  };

  std::error_code ec;
  fs::path workspace =
      fs::canonical(options.workspace.empty() ? fs::current_path() : options.workspace, ec);
  if (ec || !fs::is_directory(workspace)) {
    return finish(StageStatus::kHostError,
                  fmt::format("workspace {} is not a directory", options.workspace.string()));
  }

  CatalogOptions catalog_options = options.catalog;
  catalog_options.digests = DigestMode::kWhenPolicyNeedsIt;
  PluginCatalog catalog = PluginCatalog::Scan(catalog_options);
  for (const CatalogEntry& entry : catalog.entries()) {
    if (!entry.info) log.Message("warning: skipping plugin: " + entry.error.message());
  }
  Result<CatalogEntry*> selected = catalog.Select(options.stage, options.plugin);
  if (!selected.ok()) return finish(StageStatus::kHostError, selected.status().message());
  CatalogEntry& entry = **selected;
  if (Status digest = EnsureDigest(entry); !digest.ok()) {
    return finish(StageStatus::kHostError, digest.message());
  }
  report.plugin = entry.info;
  const PluginInfo& info = *entry.info;

  report.artifact_dir = options.artifact_dir.empty() ? workspace / "stagehost-reports" / info.name
                                                     : fs::absolute(options.artifact_dir);
  fs::create_directories(report.artifact_dir, ec);
  if (ec) {
    return finish(StageStatus::kHostError, fmt::format("cannot create artifact directory {}: {}",
                                                       report.artifact_dir.string(), ec.message()));
  }
  report.artifact_dir = fs::canonical(report.artifact_dir, ec);

  Result<ConfigSchema> schema = ConfigSchema::Parse(info.config_schema_json);
  if (!schema.ok()) return finish(StageStatus::kPluginError, schema.status().message());
  if (Status valid = schema->Validate(options.config); !valid.ok()) {
    entry.worker->Quit();
    entry.worker.reset();
    StageReport bad =
        finish(StageStatus::kBadConfig,
               fmt::format("configuration of {} is invalid:\n{}", info.name, valid.message()));
    WriteRunRecord(bad, log);
    return bad;
  }

  log.Message(fmt::format("running {} {} ({}) from {}", info.name, info.version,
                          StageTypeName(info.stage_type), info.path));
  if (!options.plugin && StageTypeFromName(options.stage)) {
    for (const CatalogEntry* other : catalog.ShadowedBy(entry)) {
      log.Message(
          fmt::format("note: {} ({}) also implements {}; it comes later on the plugin "
                      "path (use --plugin {} to run it)",
                      other->info->name, other->path.string(), options.stage, other->info->name));
    }
  }
  RunRequest request;
  request.config_json = options.config.dump();
  request.workspace_dir = workspace.string();
  request.artifact_dir = report.artifact_dir.string();
  request.env = options.env;
  RunControl control;
  control.cancel_fd = options.cancel_fd;
  control.cancel_grace = options.cancel_grace;
  control.kill_grace = options.kill_grace;
  if (options.timeout.count() > 0) {
    control.deadline = std::chrono::steady_clock::now() + options.timeout;
    control.timeout_description = DescribeDuration(options.timeout);
    request.deadline_unix_ms = UnixMillisNow() + static_cast<uint64_t>(options.timeout.count());
  }

  StageEvents events(log, report.artifact_dir, options.max_log_level);
  PluginVerdict verdict;
  if (options.in_process) {
    entry.worker->Quit();
    entry.worker.reset();
    verdict = RunInProcess(entry, request, events, control);
  } else {
    verdict = entry.worker->Run(request, events, control);
    report.worker_usage = entry.worker->usage();
    entry.worker.reset();
  }
  report.artifacts = events.TakeArtifacts();
  report.outputs = events.TakeOutputs();

  StageStatus status = FromPluginStatus(verdict.status);
  std::string message = verdict.message;
  if (status == StageStatus::kBadConfig && message.empty())
    message = "the plugin rejected its configuration";
  if (status == StageStatus::kPluginError && options.catalog.worker.memory_limit_bytes > 0) {
    message += fmt::format(" (the worker runs under a memory limit of {} MiB)",
                           options.catalog.worker.memory_limit_bytes >> 20);
  }
  StageReport done = finish(status, std::move(message));
  WriteRunRecord(done, log);
  return done;
}

}  // namespace

StageReport RunStage(const StageRunOptions& options, StageLog& log) {
  StageReport report = RunStageOnce(options, log);
  // One summary line however the stage ended, so every integration's log closes the same way.
  std::string summary =
      fmt::format("stage {} {} in {:.2f} s", report.plugin ? report.plugin->name : options.stage,
                  StageStatusName(report.status), report.seconds);
  if (!report.artifacts.empty()) {
    summary += fmt::format(" ({} artifact{} in {})", report.artifacts.size(),
                           report.artifacts.size() == 1 ? "" : "s", report.artifact_dir.string());
  }
  if (!report.message.empty()) summary += ": " + report.message;
  if (log.dropped_bytes() > 0) {
    summary += fmt::format(" [log truncated: {} bytes dropped]", log.dropped_bytes());
  }
  log.Message(summary);
  return report;
}

}  // namespace stagehost
