// What every client front end (HTTP, RESP, gRPC) hands the node: a key request, and where its
// answer goes. The front ends parse their protocol into a core::ClientRequest and render the
// core::ClientResponse back; the semantics are the core's alone, one path for every protocol.
#pragma once

#include <cstdint>
#include <functional>

#include "core/messages.h"

namespace md::net {

enum class Protocol : uint8_t { http, resp, grpc };
inline const char* to_string(Protocol p) {
  constexpr const char* kNames[] = {"http", "resp", "grpc"};
  return kNames[static_cast<int>(p)];
}
inline constexpr size_t kProtocols = 3;

// Receives the answer to a submitted request, once, on the node's thread.
using ClientDone = std::function<void(core::ClientResponse)>;
// Hands a request to the node. Call it on the node's thread (the io_context the node runs on;
// from another thread, post there first). A node that is stopping answers 503-like
// (core::Outcome::unavailable) at once.
using SubmitFn = std::function<void(Protocol, core::ClientRequest, ClientDone)>;

}  // namespace md::net
