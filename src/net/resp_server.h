// The RESP front end: a Redis-protocol TCP server on the node's threads, for redis-cli,
// redis-benchmark and Redis client libraries (docs/api.md, "RESP"). Commands are
// net/resp_commands.h's; key commands go to the core through the node's SubmitFn.
//
// It promises, per connection:
//  - pipelining: every command already received is parsed and started at once, and the replies
//    are written in the order of the commands, whatever order the core answers in; commands on
//    one key run in the order they were sent (a pipelined GET after a SET of its key waits for
//    the SET and sees it), SCAN after everything before it;
//  - bounded memory: at most commands_in_flight_max commands are started and unanswered (beyond
//    that it stops reading until replies are written, so a client that sends without reading
//    stalls itself, not the node), and its unparsed input never exceeds the parser's limits plus
//    one read;
//  - a protocol error answers `-ERR Protocol error: ...`, then the connection is closed once the
//    replies before it are written; nothing after the error is run;
//  - a client that holds a connection with nothing in flight for idle_timeout_ms is closed (Redis's
//    `timeout`, which its operators commonly set to 300 s); a command that does not arrive whole
//    within read_timeout_ms, or replies the client does not take within write_timeout_ms, close it
//    too. Beyond connections_max new connections are closed at once;
//  - with `tls`, every connection is TLS (net/tls.h), its handshake bounded by read_timeout_ms; a
//    client that does not complete it (clear text, a client that does not trust the CA) is closed
//    and counted.
// Nothing a client sends can stop the server from serving the others.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/status.h"
#include "net/client_call.h"
#include "net/resp_commands.h"
#include "net/tls.h"

namespace md::net {

struct RespServerOptions {
  resp::ParserLimits parser;      // the runtime sizes bulk_bytes_max from the node's value limit
  resp::CommandLimits commands;
  size_t commands_in_flight_max = 1024;  // per connection: beyond it, reading pauses
  uint32_t idle_timeout_ms = 300'000;    // nothing in flight, nothing half-sent
  uint32_t read_timeout_ms = 10'000;     // a command started must arrive whole within this
  uint32_t write_timeout_ms = 30'000;    // replies must be taken by the client within this
  size_t connections_max = 10'000;
  // Set: connections speak TLS with the context this returns when they are accepted, so a context
  // replaced meanwhile (a certificate reloaded) serves every later connection.
  std::function<std::shared_ptr<TlsContext>()> tls;
};

class RespServer {
 public:
  struct Counters {
    uint64_t connections_accepted = 0, connections_open = 0;
    uint64_t commands = 0;           // commands read, every kind
    uint64_t error_replies = 0;      // commands answered with an error (unknown, bad arguments, failed)
    uint64_t protocol_errors = 0;    // connections closed for bytes that are not RESP
    uint64_t closed_timeout = 0;     // connections closed idle, half-sent or not reading their replies
    uint64_t commands_in_flight = 0; // started, reply not yet written
    uint64_t tls_handshakes_failed = 0;
  };

  // `submit` takes key requests, `authenticate` checks AUTH's credentials, `info` answers INFO and
  // HELLO; all three are called on the thread of the command's connection, and `submit`'s and
  // `authenticate`'s answers may come on any thread. The server accepts on `io`'s thread and
  // spreads the connections over `connection_contexts` (none: `io`), in turn
  // (net/connection_set.h); each connection is served on its context's thread for good.
  RespServer(boost::asio::io_context& io, RespServerOptions options, SubmitFn submit, AuthenticateFn authenticate,
             resp::InfoFn info, const std::vector<boost::asio::io_context*>& connection_contexts = {});
  // The server goes with its connections: destroy it only once no other thread runs its contexts.
  ~RespServer();
  // Binds and starts accepting. The error names the address when the port is taken.
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  uint16_t port() const;
  // Stops accepting connections; open ones go on (commands on them are refused by a stopping
  // node's submit) until the io_contexts stop.
  void stop();
  // A snapshot; any thread may take it.
  Counters counters() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace md::net
