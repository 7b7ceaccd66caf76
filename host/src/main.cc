// stagehost's entry point: the hidden worker mode, or the command line.
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "cli/cli.h"
#include "plugin/worker_main.h"

int main(int argc, char** argv) {
  // `stagehost __worker CHANNEL_FD PLUGIN_FD PATH`: spawned by the host itself, never by users.
  // Checked before any parsing so that a worker starts as fast as possible.
  if (argc == 5 && std::strcmp(argv[1], "__worker") == 0) {
    stagehost::WorkerArgs args;
    args.channel_fd = std::atoi(argv[2]);
    args.plugin_fd = std::atoi(argv[3]);
    args.display_path = argv[4];
    ::_exit(stagehost::RunWorker(args));
  }
  return stagehost::cli::RunCli(argc, argv);
}
