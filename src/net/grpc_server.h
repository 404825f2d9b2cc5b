// The gRPC front end: the service minidynamo.v1.KeyValue (proto/minidynamo/v1/kv.proto) on
// gRPC's callback API, beside the HTTP API and through the same core path (net/client_call.h).
//
// Threads. gRPC runs the handlers on its own threads; the node is single-threaded on its
// io_context. Each request is translated on gRPC's thread (net/grpc_api.h), posted to the
// io_context's mailbox (net/mailbox.h) and submitted there; its answer finishes the call from the
// io thread. No lock is taken on the way beyond gRPC's own.
//
// Every call is finished exactly once, by whichever comes first: the node's answer, or gRPC's
// cancellation (the client's deadline passed: DEADLINE_EXCEEDED; the client cancelled; the server
// shuts down). An answer that comes later is dropped without touching the finished call.
// Health is answered on the io thread too, from what the node says at that moment.
//
// Limits: a request message larger than message_bytes_max is refused by gRPC (RESOURCE_EXHAUSTED)
// before it is buffered whole; keys and values are checked against the node's ApiLimits.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/status.h"
#include "net/client_call.h"
#include "net/http_api.h"
#include "net/tls.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace md::net {

struct GrpcServerOptions {
  ApiLimits limits;
  size_t message_bytes_max = 0;  // largest request message accepted; the node: its value limit + 64 KiB
  // Set (--tls-*): the port serves TLS only, with this certificate and key, read when listen() runs
  // and again at reload_tls().
  std::optional<TlsFiles> tls = std::nullopt;
};

struct GrpcHealth {
  bool ready = false;  // serving, not stopping
  std::string node_id;
};
// Asked on the node's thread for each Health call.
using HealthFn = std::function<GrpcHealth()>;
// Told on the node's thread of each key request refused before the core saw it (bad input).
using RefusedFn = std::function<void(core::Op)>;

class GrpcServer {
 public:
  // `io` must outlive this server, and run until shutdown() returned (calls in flight are answered
  // there). The callbacks are called on io's thread.
  GrpcServer(boost::asio::io_context& io, GrpcServerOptions options, SubmitFn submit, HealthFn health,
             RefusedFn refused);
  // Shuts down at once if shutdown() was not called: calls in flight are cancelled.
  ~GrpcServer();
  GrpcServer(const GrpcServer&) = delete;
  GrpcServer& operator=(const GrpcServer&) = delete;

  // Serves on ip:port (port 0: one the OS picks; port() says which), in TLS with options.tls.
  // Errors say which address could not be bound, or which TLS file could not be read.
  Status listen(const std::string& ip, uint16_t port);
  uint16_t port() const { return port_; }
  // Reads options.tls's files again: connections from the next one on are served with them, open
  // ones keep theirs. Call it on one thread at a time; the files should be checked first (net/tls.h).
  Status reload_tls();
  // Begins a graceful stop on a thread of its own, so io's thread goes on answering: calls in
  // flight have until `deadline`, then are cancelled and the connections closed. New calls still
  // reach the node meanwhile, which refuses them (UNAVAILABLE) as it stops. stopped() tells when done.
  void begin_shutdown(std::chrono::steady_clock::time_point deadline);
  bool stopped() const { return stopped_.load(); }

 private:
  class Service;
  class ReloadableTls;
  size_t message_bytes_max_;
  std::optional<TlsFiles> tls_;
  std::shared_ptr<ReloadableTls> reloadable_tls_;  // with tls_; outlives server_, which asks it at handshakes
  uint16_t port_ = 0;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::thread stopper_;
  std::atomic<bool> stopped_{false};
};

}  // namespace md::net
