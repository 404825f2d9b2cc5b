// Tells a service manager (systemd with Type=notify) how this process is doing, by the sd_notify
// protocol: one datagram of "KEY=value" lines to the Unix socket named in $NOTIFY_SOCKET.
//
// Without $NOTIFY_SOCKET (not started by systemd, or not Type=notify) every call does nothing and
// succeeds, so a node calls these unconditionally. An error (the socket is gone) is returned for
// the caller to log; it never stops the node.
#pragma once

#include <string_view>

#include "core/status.h"

namespace md::runtime {

// Sends `state`, e.g. "READY=1\nSTATUS=serving" or "STOPPING=1".
Status notify_service(std::string_view state);

}  // namespace md::runtime
