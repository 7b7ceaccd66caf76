// Turns SIGINT and SIGTERM into a readable file descriptor, so event loops can poll for cancel.
#pragma once

namespace stagehost::cli {

// Installs the handlers (once) and returns the read end of the self-pipe. SIGPIPE is ignored so a
// closed stdout becomes a write error instead of killing the host mid-stage.
int InstallCancelSignals();

}  // namespace stagehost::cli
