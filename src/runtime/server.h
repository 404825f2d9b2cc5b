// A node process: drives the pure core (core::Node) with real time, sockets and a storage engine.
//
// Threads: one io thread runs the core, the HTTP API and the peer transport, so the core needs no
// locks; reads and unsynced writes run inline on it, and fsynced writes go to the durable writer,
// which batches them (one fsync per batch) and posts their completions back to the io thread.
#pragma once

#include <memory>

#include "core/status.h"
#include "runtime/config.h"

namespace md::runtime {

class Server {
 public:
  explicit Server(NodeConfig config);
  ~Server();

  // Opens the data dir and engine, binds the HTTP and peer ports. Errors name what failed.
  Status start();
  // Serves on the calling thread until stop() (safe from any thread or a signal handler's strand).
  void run();
  void stop();
  // Reads the TLS certificate, key and CA files again (--tls-*): connections accepted or made from
  // then on use them, open ones go on; files that do not load are logged and the old ones kept.
  // Safe from any thread. Nothing without TLS.
  void reload_tls();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace md::runtime
