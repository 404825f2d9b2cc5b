// What every client front end (HTTP, RESP, gRPC) hands the node: a key request, and where its
// answer goes. The front ends parse their protocol into a core::ClientRequest and render the
// core::ClientResponse back; the semantics are the core's alone, one path for every protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "core/messages.h"
#include "security/credentials.h"

namespace md::net {

enum class Protocol : uint8_t { http, resp, grpc };
inline const char* to_string(Protocol p) {
  constexpr const char* kNames[] = {"http", "resp", "grpc"};
  return kNames[static_cast<int>(p)];
}
inline constexpr size_t kProtocols = 3;

// Who sends a request: the front end, the client's IP address (failed attempts are limited per
// address), and the credentials it presented (Kind::none if it presented none).
struct Caller {
  Protocol protocol = Protocol::http;
  std::string address;
  security::Credentials credentials;
  std::string malformed = {};  // why the credentials sent could not be read (then Kind::none); refused as such
};

// A caller from an `Authorization` header's value (HTTP, gRPC metadata).
inline Caller caller_with_authorization(Protocol protocol, std::string address, std::string_view authorization) {
  Caller caller{protocol, std::move(address), {}};
  auto credentials = security::parse_authorization(authorization);
  if (credentials.is_ok()) {
    caller.credentials = std::move(credentials).value();
  } else {
    caller.malformed = credentials.status().message();
  }
  return caller;
}

// Receives the answer to a submitted request, once, on the node's thread.
using ClientDone = std::function<void(core::ClientResponse)>;
// Hands a request to the node. Call it on the node's thread (the io_context the node runs on;
// from another thread, post there first). With --security on, the node first checks the caller's
// credentials and grants (core::Outcome::unauthenticated, forbidden, rate_limited). A node that is
// stopping answers 503-like (core::Outcome::unavailable) at once.
using SubmitFn = std::function<void(const Caller&, core::ClientRequest, ClientDone)>;
// Checks a caller's credentials alone (RESP's AUTH): answers Outcome::ok, unauthenticated or
// rate_limited, on the node's thread; ok at once when security is off.
using AuthenticateFn = std::function<void(const Caller&, ClientDone)>;

}  // namespace md::net
