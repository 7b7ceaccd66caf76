// `stagehost version`: release, plugin ABI and worker protocol versions.
#include <fmt/format.h>

#include "cli/cli.h"
#include "plugin/descriptor_check.h"
#include "plugin/worker_protocol.h"

namespace stagehost::cli {

void RegisterVersion(CLI::App& app, int& exit_code) {
  CLI::App* cmd =
      app.add_subcommand("version", "Print the stagehost, plugin ABI and protocol versions");
  cmd->callback([&exit_code] {
    fmt::print("stagehost {} (plugin ABI {}.{}, worker protocol {})\n", STAGEHOST_VERSION,
               kHostAbiMajor, kHostAbiMinor, kWorkerProtocolVersion);
    exit_code = 0;
  });
}

}  // namespace stagehost::cli
