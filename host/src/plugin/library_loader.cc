// Boost.DLL loading with the entry-point lookup and descriptor checks.
#include "plugin/library_loader.h"

#include <fmt/format.h>

#include <boost/dll/shared_library.hpp>
#include <mutex>
#include <system_error>
#include <vector>

#include "plugin/descriptor_check.h"

namespace stagehost {
namespace {

// Libraries are never unloaded in a long-lived process (plugin-abi.md rule 8): unloading while a
// thread, a callback or a destructor of the plugin is still referenced crashes later, far from
// the cause. Handles are deliberately leaked here.
void KeepLoaded(const boost::dll::shared_library& library) {
  static std::mutex mutex;
  static auto* registry = new std::vector<boost::dll::shared_library>();
  std::lock_guard<std::mutex> lock(mutex);
  registry->push_back(library);
}

}  // namespace

Result<LoadedPlugin> LoadPluginLibrary(const std::string& load_path,
                                       const std::string& display_path) {
  boost::dll::shared_library library;
  try {
    // The throwing overload: its message carries the dlerror() text ("undefined symbol: ...").
    library.load(load_path, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::system_error& e) {
    return PluginError(fmt::format("cannot load {}: {}", display_path, e.what()));
  } catch (const std::exception& e) {
    return PluginError(fmt::format("cannot load {}: {}", display_path, e.what()));
  }
  KeepLoaded(library);

  if (!library.has(STAGEHOST_PLUGIN_ENTRY_SYMBOL)) {
    return PluginError(fmt::format("{}: not a stagehost plugin: no {} symbol", display_path,
                                   STAGEHOST_PLUGIN_ENTRY_SYMBOL));
  }
  auto& entry = library.get<stagehost_plugin_entry_fn>(STAGEHOST_PLUGIN_ENTRY_SYMBOL);
  const stagehost_plugin_descriptor* descriptor = entry(kHostAbiMajor, kHostAbiMinor);
  Result<PluginInfo> info = CheckDescriptor(descriptor);
  if (!info.ok()) return info.status().WithContext(display_path);
  return LoadedPlugin{descriptor, std::move(info).value()};
}

}  // namespace stagehost
