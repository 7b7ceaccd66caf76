// free_port.h -- a TCP port on 127.0.0.1 that nothing listens on right now, for a test's server.
#pragma once

namespace stagehost::testutil {

// Binds port 0 on loopback, reads the port the kernel chose and closes the socket. Another process
// could take the port before the caller binds it; tests accept that small race.
int FreeLoopbackPort();

}  // namespace stagehost::testutil
