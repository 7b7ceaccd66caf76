// throws_sdk: an SDK plugin whose Run() throws std::runtime_error("boom from run"). The SDK's
// noexcept trampoline turns it into STAGEHOST_PLUGIN_ERROR with what() as the message; the host
// reports "boom from run" and exits 2.
#include <stagehost/plugin.h>

#include <stdexcept>
#include <string_view>

namespace {

class ThrowsSdk {
 public:
  static constexpr const char* kName = "throws-sdk";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr stagehost::sdk::StageType kStageType = stagehost::sdk::StageType::kUnitTest;
  static constexpr const char* kDescription = "stagehost fixture: throws-sdk";
  static constexpr const char* kVendor = "stagehost test suite";
  static constexpr const char* kLicense = "Apache-2.0";
  static constexpr const char* kConfigSchema = R"({"type": "object", "properties": {}})";

  ThrowsSdk(const stagehost::sdk::Context& ctx, std::string_view /*config_json*/) : ctx_(ctx) {}

  stagehost::sdk::Outcome Run(const stagehost::sdk::RunInput& /*input*/) {
    ctx_.Info("throws-sdk: throwing from Run");
    throw std::runtime_error("boom from run");
  }

 private:
  const stagehost::sdk::Context& ctx_;
};

}  // namespace

STAGEHOST_PLUGIN(ThrowsSdk)
