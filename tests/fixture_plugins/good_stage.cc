// good_stage: the well-behaved SDK plugin every success-path test runs.
//
// Run(): logs a greeting (and `message` when configured), logs the value of FIXTURE_SECRET when
// set (to test masking), sleeps `sleep_ms` while polling cancelled(), writes and emits
// report.xml (JUnit) into the artifact directory, sets the outputs "greeting" and "tests", and
// returns passed -- or failed when the config says {"fail": true}.
#include <stagehost/plugin.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace sdk = stagehost::sdk;

constexpr char kReport[] =
    R"(<?xml version="1.0" encoding="UTF-8"?>
<testsuites tests="1" failures="0">
  <testsuite name="good-stage" tests="1" failures="0">
    <testcase classname="good_stage" name="passes"/>
  </testsuite>
</testsuites>
)";

class GoodStage {
 public:
  static constexpr const char* kName = "good-stage";
  static constexpr const char* kVersion = "1.2.3";
  static constexpr sdk::StageType kStageType = sdk::StageType::kUnitTest;
  static constexpr const char* kDescription = "stagehost fixture: a stage that behaves";
  static constexpr const char* kVendor = "stagehost test suite";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = R"({
    "type": "object",
    "properties": {
      "fail": {"type": "boolean"},
      "message": {"type": "string"},
      "sleep_ms": {"type": "integer", "minimum": 0}
    }
  })";

  GoodStage(const sdk::Context& ctx, std::string_view config_json) : ctx_(ctx) {
    nlohmann::json config = nlohmann::json::parse(config_json.empty() ? "{}" : config_json);
    fail_ = config.value("fail", false);
    message_ = config.value("message", std::string());
    sleep_ms_ = config.value("sleep_ms", std::int64_t{0});
    if (sleep_ms_ < 0) throw sdk::BadConfig("sleep_ms must not be negative");
  }

  sdk::Outcome Run(const sdk::RunInput& input) {
    ctx_.Info("good-stage: hello from good_stage");
    if (!message_.empty()) ctx_.Info("good-stage: message: " + message_);

    std::string secret;
    if (auto value = input.env("FIXTURE_SECRET")) {
      secret = std::string(*value);
    } else if (const char* env = std::getenv("FIXTURE_SECRET")) {
      secret = env;
    }
    if (!secret.empty()) {
      ctx_.Info("good-stage: the secret is " + secret);
      ctx_.Warn("good-stage: (stderr stream) the secret is " + secret);
    }

    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms_);
    while (std::chrono::steady_clock::now() < until) {
      if (ctx_.cancelled() || cancel_requested_.load()) {
        ctx_.Info("good-stage: cancelled while sleeping");
        throw sdk::Cancelled();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }

    ctx_.Progress(500, "writing the report");
    ctx_.WriteArtifact(input, "report.xml", kReport, "JUnit report", "application/xml");
    ctx_.SetOutput("greeting", R"("hello")");
    ctx_.SetOutput("tests", "1");
    ctx_.Progress(1000, "done");

    if (fail_) {
      ctx_.Info("good-stage: failing as configured");
      return sdk::Outcome::kFailed;
    }
    ctx_.Info("good-stage: passed");
    return sdk::Outcome::kPassed;
  }

  void RequestCancel() noexcept { cancel_requested_.store(true); }

 private:
  const sdk::Context& ctx_;
  bool fail_ = false;
  std::string message_;
  std::int64_t sleep_ms_ = 0;
  std::atomic<bool> cancel_requested_{false};
};

}  // namespace

STAGEHOST_PLUGIN(GoodStage)
