// hello_stage.cc -- the smallest useful stage plugin: takes no configuration, logs one line,
// passes.
//
// Build it with find_package(StagehostSDK) + stagehost_add_plugin() (see CMakeLists.txt beside
// this file), then:
//   stagehost plugins inspect hello-stage
//   stagehost run hello-stage --workspace DIR      # prints "hello from DIR", exits 0
#include <stagehost/plugin.h>

#include <string>
#include <string_view>

namespace {

class HelloStage {
 public:
  static constexpr const char* kName = "hello-stage";
  static constexpr const char* kVersion = "1.0.0";
  static constexpr stagehost::sdk::StageType kStageType = stagehost::sdk::StageType::kUnitTest;
  static constexpr const char* kDescription = "Logs a greeting naming the workspace and passes";
  static constexpr const char* kVendor = "stagehost SDK examples";
  static constexpr const char* kLicense = "Apache-2.0";
  // An object with no properties: the host closes it, so any key in the config is an error.
  static constexpr const char* kConfigSchema = R"({"type": "object", "properties": {}})";

  // The host has already validated the config against kConfigSchema; there is nothing to read.
  HelloStage(const stagehost::sdk::Context& ctx, std::string_view /*config_json*/) : ctx_(ctx) {}

  stagehost::sdk::Outcome Run(const stagehost::sdk::RunInput& input) {
    ctx_.Info("hello from " + std::string(input.workspace_dir()));
    return stagehost::sdk::Outcome::kPassed;
  }

 private:
  // Owned by the SDK; valid until the plugin object is destroyed.
  const stagehost::sdk::Context& ctx_;
};

}  // namespace

STAGEHOST_PLUGIN(HelloStage)
