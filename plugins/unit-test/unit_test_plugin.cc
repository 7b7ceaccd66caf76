// unit_test_plugin.cc -- the "unit-test" stage plugin: the SDK adapter around the core library
// (stage.h). Runs the test commands, normalises every JUnit report into one, judges the result.
#include <stagehost/plugin.h>

#include <atomic>
#include <string>
#include <string_view>

#include "junit_model.h"
#include "stage.h"
#include "unit_test_config.h"

namespace {

namespace sdk = stagehost::sdk;
namespace ut = stagehost::unit_test;

// Forwards the core's log lines and command output to the stage log.
class ContextIo : public ut::StageIo {
 public:
  ContextIo(const sdk::Context& ctx, const std::atomic<bool>& cancel)
      : ctx_(ctx), cancel_(cancel) {}
  void Info(std::string_view line) override { ctx_.Info(line); }
  void Warn(std::string_view line) override { ctx_.Warn(line); }
  void Error(std::string_view line) override { ctx_.Error(line); }
  void CommandOutput(std::string_view bytes) override { ctx_.Write(bytes); }
  bool Cancelled() override { return cancel_.load(std::memory_order_relaxed) || ctx_.cancelled(); }

 private:
  const sdk::Context& ctx_;
  const std::atomic<bool>& cancel_;
};

class UnitTestStage {
 public:
  static constexpr const char* kName = "unit-test";
  static constexpr const char* kVersion = "0.1.0";
  static constexpr sdk::StageType kStageType = sdk::StageType::kUnitTest;
  static constexpr const char* kDescription =
      "Runs test commands (or collects their reports), normalises every JUnit dialect into one "
      "report for GitLab and Jenkins, retries flaky tests, quarantines, shards";
  static constexpr const char* kVendor = "stagehost";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = ut::kConfigSchema;

  UnitTestStage(const sdk::Context& ctx, std::string_view config_json) : ctx_(ctx) {
    try {
      config_ = ut::ParseConfig(config_json);
    } catch (const ut::UsageError& e) {
      throw sdk::BadConfig(e.what());
    }
  }

  void RequestCancel() noexcept { cancel_.store(true, std::memory_order_relaxed); }

  sdk::Outcome Run(const sdk::RunInput& input) {
    ut::StageInput in;
    in.workspace = std::string(input.workspace_dir());
    in.artifact_dir = std::string(input.artifact_dir());
    for (std::string_view entry : input.env_entries()) in.env.emplace_back(entry);
    in.deadline_unix_ms = input.deadline_unix_ms();
    ContextIo io(ctx_, cancel_);
    ut::StageResult result;
    try {
      result = ut::RunStage(config_, in, io);
    } catch (const ut::UsageError& e) {
      throw sdk::BadConfig(e.what());
    } catch (const ut::CancelledError&) {
      throw sdk::Cancelled();
    }
    if (!result.report_file.empty()) {
      ctx_.EmitArtifact(result.report_file, "JUnit report (normalised)", "application/xml");
    }
    for (const auto& [key, value] : result.outputs) ctx_.SetOutput(key, value);
    if (result.passed) {
      ctx_.Info("unit-test: PASSED: " + result.reason);
      return sdk::Outcome::kPassed;
    }
    ctx_.Error("unit-test: FAILED: " + result.reason);
    return sdk::Outcome::kFailed;
  }

 private:
  const sdk::Context& ctx_;
  ut::Config config_;
  std::atomic<bool> cancel_{false};
};

}  // namespace

STAGEHOST_PLUGIN(UnitTestStage)
