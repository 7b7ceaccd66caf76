// stagehost/plugin.h -- write a stage plugin as a C++ class and one macro.
//
//   #include <stagehost/plugin.h>
//
//   class HelloStage {
//    public:
//     static constexpr const char* kName = "hello";            // [a-z0-9][a-z0-9._-]*
//     static constexpr const char* kVersion = "1.0.0";         // semver
//     static constexpr stagehost::sdk::StageType kStageType = stagehost::sdk::StageType::kUnitTest;
//     static constexpr const char* kDescription = "Says hello";
//     static constexpr const char* kVendor = "Example Corp";
//     static constexpr const char* kLicense = "Apache-2.0";    // SPDX
//     static constexpr const char* kConfigSchema = R"({"type": "object", "properties": {}})";
//
//     // The config is JSON text already validated against kConfigSchema. Throw BadConfig when it
//     // is valid but unusable.
//     HelloStage(const stagehost::sdk::Context& ctx, std::string_view config_json);
//     stagehost::sdk::Outcome Run(const stagehost::sdk::RunInput& input);
//     void RequestCancel() noexcept;  // optional; called from any thread: only set a flag
//   };
//
//   STAGEHOST_PLUGIN(HelloStage)
//
// The macro defines the one exported symbol, stagehost_plugin_entry, and noexcept trampolines
// that catch every exception: stagehost::sdk::Error subclasses map to their status, any other
// exception to STAGEHOST_PLUGIN_ERROR with what() as the message. The class's destructor must join
// any thread the plugin started (after it returns, no host callback may be made).
//
// Use STAGEHOST_PLUGIN once per shared library, at namespace scope.
#pragma once

#include <stagehost/internal/trampolines.h>
#include <stagehost/plugin_abi.h>
#include <stagehost/stage.h>

#define STAGEHOST_PLUGIN(PluginClass)                                                           \
  extern "C" STAGEHOST_EXPORT const stagehost_plugin_descriptor* stagehost_plugin_entry(        \
      uint16_t host_abi_major, uint16_t host_abi_minor) {                                       \
    return ::stagehost::sdk::internal::Descriptor<PluginClass>(host_abi_major, host_abi_minor); \
  }
