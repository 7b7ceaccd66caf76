// Turns SIGINT and SIGTERM into a readable file descriptor, so event loops can poll for cancel.
#pragma once

#include <atomic>

namespace stagehost::cli {

// Installs the handlers (once) and returns the read end of the self-pipe. SIGPIPE is ignored so a
// closed stdout becomes a write error instead of killing the host mid-stage.
int InstallCancelSignals();

// Set by the same handlers, for HTTP clients (net::ClientOptions::abort) to end a request in
// flight within ~100 ms instead of waiting for its timeout. Clear it to send a request after a
// cancel on purpose (stopping the remote build); a second signal sets it again.
std::atomic<bool>& CancelRequested();

}  // namespace stagehost::cli
