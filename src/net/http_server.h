// An asynchronous HTTP/1.1 server with keep-alive and pipelining, for the client API. Requests are
// parsed in place from each connection's receive buffer by Beast's parser, answers written head and
// body in one gather write, and timeouts kept by one sweep for all connections (no timer per read):
// docs/design.md, "A request's life".
//
// It knows nothing of keys: it parses requests, bounds them, hands each to the handler and writes
// the handler's answer, in order per connection. It promises:
//  - a body over body_bytes_max is refused with 413 from its headers, before it is read (an
//    `Expect: 100-continue` upload gets the 413 instead of the 100), and a chunked one when it
//    crosses the limit; an acceptable 100-continue request gets `100 Continue`, then is read;
//  - malformed HTTP or a bad %-escape gets 400, then the connection is closed;
//  - requests on one connection are answered in their order; a pipelined request waiting in the
//    buffer is parsed once the answer before it is written;
//  - a silent keep-alive connection is closed after idle_timeout_ms, a request that does not arrive
//    whole within read_timeout_ms likewise, and an answer the client does not take within
//    idle_timeout_ms (slow clients cannot hold connections forever); the sweep that checks them runs
//    every quarter of the shorter timeout (10 ms to 1 s);
//  - a body sent with `Content-Encoding: gzip|zstd` is inflated before the handler sees it, and the
//    limit applies to the inflated body: one that inflates past body_bytes_max gets 413 (having
//    allocated no more than that), malformed compressed data 400, any other coding 415;
//  - with compress_responses, a body of at least compression_min_bytes is compressed with zstd or
//    gzip when the request's Accept-Encoding accepts one (its q-values decide), and every answer
//    says `Vary: Accept-Encoding`;
//  - every error body is {"status":"error","error":"..."}; a handler exception answers 500;
//  - with `tls`, every connection is TLS (net/tls.h), its handshake bounded by read_timeout_ms; a
//    client that does not complete it is closed and counted. Each request says it came over TLS and
//    whether the client presented a certificate the CA signed (HttpRequest::peer_certificate_verified).
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/http_request.h"
#include "net/tls.h"

namespace md::net {

// Call exactly once, now or later, from any thread: the answer is written on its connection's.
using Responder = std::function<void(HttpResponse)>;
// Called on the thread of the request's connection.
using HttpHandler = std::function<void(HttpRequest&&, Responder)>;

struct HttpServerOptions {
  size_t body_bytes_max = (1 << 20) + (64 << 10);  // larger bodies: 413
  uint32_t header_bytes_max = 16 << 10;            // larger headers: 400
  uint32_t idle_timeout_ms = 60'000;               // keep-alive connection with no request
  uint32_t read_timeout_ms = 10'000;               // a started request must arrive whole within this
  size_t connections_max = 10'000;                 // beyond it new connections are closed at once
  bool compress_responses = true;                  // --compression auto
  uint32_t compression_min_bytes = 512;            // shorter response bodies go as they are
  // Set: connections speak TLS with the context this returns when they are accepted, so a context
  // replaced meanwhile (a certificate reloaded) serves every later connection.
  std::function<std::shared_ptr<TlsContext>()> tls;
};

class HttpServer {
 public:
  struct Counters {
    uint64_t requests = 0, bad_requests = 0, too_large = 0, connections_accepted = 0, connections_open = 0;
    uint64_t compressed_requests = 0, compressed_responses = 0;  // bodies inflated, bodies sent compressed
    uint64_t requests_in_flight = 0;  // handed to the handler, their answers not yet written whole
    uint64_t tls_handshakes_failed = 0;
  };

  // Accepts on `io`'s thread and spreads the connections over `connection_contexts` (none: `io`), in
  // turn (net/connection_set.h); each connection is served on its context's thread for good.
  HttpServer(boost::asio::io_context& io, HttpServerOptions options, HttpHandler handler,
             const std::vector<boost::asio::io_context*>& connection_contexts = {});
  // Binds and starts accepting. The error names the address when the port is taken.
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const;
  // Stops accepting connections; the open ones go on until the io_contexts stop (a node drains
  // them: requests_in_flight).
  void stop();
  // A snapshot; any thread may take it.
  Counters counters() const;
  // The server goes with its connections: destroy it only once no other thread runs its contexts.
  ~HttpServer();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace md::net
