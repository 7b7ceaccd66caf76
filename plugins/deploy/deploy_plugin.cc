// deploy_plugin.cc -- the "deploy" stage plugin: maps RunDeploy onto the SDK (log, artifacts,
// outputs, outcome). "Rolled back" is a failed stage (exit 1); "failed to roll back" is an
// infrastructure error (exit 2), so CI shows the two apart.
#include <stagehost/plugin.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "config.h"
#include "config_schema.h"
#include "deploy.h"

namespace {

namespace sdk = stagehost::sdk;
namespace dp = stagehost::deploy;

class Deploy {
 public:
  static constexpr const char* kName = "deploy";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr sdk::StageType kStageType = sdk::StageType::kDeploy;
  static constexpr const char* kDescription =
      "Publishes artifacts (S3, HTTP PUT, directory), signs in-toto/SLSA provenance, verifies it, "
      "rolls out direct, blue-green or canary through nginx or commands, with metric analysis and "
      "automatic rollback";
  static constexpr const char* kVendor = "stagehost";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = dp::kConfigSchema;

  Deploy(const sdk::Context& ctx, std::string_view config_json)
      : ctx_(ctx),
        config_(dp::ParseConfig(nlohmann::json::parse(config_json.empty() ? "{}" : config_json))) {}

  void RequestCancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }

  sdk::Outcome Run(const sdk::RunInput& input) {
    dp::RunEnv env;
    env.workspace = std::string(input.workspace_dir());
    env.artifact_dir = std::string(input.artifact_dir());
    env.env = [&input](const std::string& key) -> std::optional<std::string> {
      auto v = input.env(key);
      if (!v) return std::nullopt;
      return std::string(*v);
    };
    for (std::string_view e : input.env_entries()) env.env_entries.emplace_back(e);
    env.hooks.info = [this](const std::string& line) { ctx_.Info(line); };
    env.hooks.warn = [this](const std::string& line) { ctx_.Warn(line); };
    env.hooks.check_cancelled = [this] {
      if (cancel_.load(std::memory_order_relaxed) || ctx_.cancelled()) throw sdk::Cancelled();
    };
    env.sleep = [this](long ms) {
      const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
      while (std::chrono::steady_clock::now() < end) {
        if (cancel_.load(std::memory_order_relaxed) || ctx_.cancelled()) throw sdk::Cancelled();
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    };
    env.plugin_version = kVersion;

    const dp::DeployReport report = dp::RunDeploy(config_, env);
    for (const dp::ReportFile& f : report.files)
      ctx_.EmitArtifact(f.rel_path, f.name, f.media_type);
    ctx_.SetOutput("version", nlohmann::json(report.version).dump());
    if (!report.url.empty()) ctx_.SetOutput("url", nlohmann::json(report.url).dump());
    ctx_.SetOutput("outcome", nlohmann::json(report.record.value("outcome", "")).dump());
    switch (report.verdict) {
      case dp::Verdict::kPassed:
        ctx_.Info("deploy: " + report.message);
        return sdk::Outcome::kPassed;
      case dp::Verdict::kFailed:
        ctx_.Error("deploy: " + report.message);
        return sdk::Outcome::kFailed;
      case dp::Verdict::kRollbackFailed:
        break;
    }
    ctx_.Error("deploy: " + report.message);
    throw sdk::InfraError(report.message);
  }

 private:
  const sdk::Context& ctx_;
  dp::Config config_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

STAGEHOST_PLUGIN(Deploy)
