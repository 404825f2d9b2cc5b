// Everything a node process is configured with, with defaults that give the seed's local cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/node.h"
#include "core/status.h"
#include "net/http_api.h"
#include "net/tls.h"
#include "storage/engine.h"

namespace md::runtime {

// --threads' default: the cores this process may run on (1 if unknown).
uint32_t default_threads();

struct NodeConfig {
  std::string host = "127.0.0.1";            // what this node binds and is known by, unless the next two say otherwise
  std::string listen;                        // the IP (or a name resolved at start) to bind; default: host
  std::string advertise;                     // host:port members know it by (may be a DNS name); default: host:port
  uint16_t port = 5001;                      // HTTP API
  uint16_t peer_port_offset = 1000;          // every node's peer port is its HTTP port + this
  // The client front ends beside HTTP: RESP (redis-cli and Redis clients) and gRPC. Unset: the
  // HTTP port + 1379 (5001 -> 6380) and + 2000 (5001 -> 7001); 0 turns one off.
  std::optional<uint32_t> resp_port;
  std::optional<uint32_t> grpc_port;
  std::vector<std::string> nodes = {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"};  // founding members' HTTP addresses
  std::string join;                          // an HTTP address: join that node's cluster instead of founding one
  std::string data_dir;                      // default: ./data/node_<port>
  std::string node_id;                       // default: drawn at first start (new_node_id), then kept in the data dir
  uint32_t partitions = core::kDefaultPartitions;  // Q; every node of a cluster must agree
  bool partitions_given = false;             // --partitions or --nodes on the command line: a kept
  bool nodes_given = false;                  // membership that disagrees with them is refused
  std::string engine = "rocksdb";            // or "memory" (nothing survives a restart)
  storage::Options storage;
  uint32_t commit_window_us = 2000;          // with --sync always: the wait after a batch of several writes (durable_writer.h)
  core::NodeOptions core;
  net::ApiLimits limits;
  uint32_t tick_ms = 5;                      // how often deadlines are checked
  // --threads: the node's own thread, which runs the core, the peers and the storage reads, and
  // threads - 1 more that serve the HTTP and RESP connections (runtime/io_threads.h); with more
  // than one, every RocksDB write goes to the durable writer's thread (durable_writer.h).
  uint32_t threads = default_threads();
  // --compression auto: peer frames (to peers that decode them), HTTP responses (to clients that
  // accept them) and RocksDB blocks are compressed; off: none of them, and the node advertises no
  // codec (it still inflates what it is sent). Bodies and frames under compression_min_bytes are
  // never compressed: bench/RESULTS.md, "Compression", chose the default.
  bool compression = true;
  uint32_t compression_min_bytes = 512;
  // --tls-cert, --tls-key, --tls-ca (PEM files; all three or none): every port serves TLS, peers in
  // mutual TLS, and a join presents the certificate and verifies the server. Reloaded on SIGHUP.
  net::TlsFiles tls;
  // --security on: every client request passes the gate (runtime/gate.h); needs TLS.
  bool security = false;
  std::string admin_password_file;  // with security: the user `admin`'s password, if the cluster has no users
};

inline bool tls_on(const NodeConfig& config) { return !config.tls.certificate.empty(); }

// This node's HTTP address, as members know it: --advertise, or host:port.
std::string self_address(const NodeConfig& config);

// The RESP and gRPC ports this node serves on (0: that front end is off). Errors name the flag.
Result<uint16_t> resp_port(const NodeConfig& config);
Result<uint16_t> grpc_port(const NodeConfig& config);

// What this node binds its HTTP and peer ports on: --listen, or --host.
inline const std::string& listen_host(const NodeConfig& config) {
  return config.listen.empty() ? config.host : config.listen;
}

// The founding members (--nodes), checked (this node among them, no address twice, every peer port
// valid) and sorted. Errors say which flag is wrong.
Result<std::vector<std::string>> founding_members(const NodeConfig& config);

// A member's peer endpoint (host, peer port) from its HTTP address host:port; the host is not
// resolved here (the peer transport resolves it at every connect).
Result<std::pair<std::string, uint16_t>> peer_endpoint(const std::string& member, uint16_t peer_port_offset);

// A node id no other node has: "node_" and 128 random bits from the OS (32 hex digits). Ids
// are not derived from addresses, which hosts share (every pod on port 5001) and reuse (a wiped
// data dir restarted at the same address must not make the dots its predecessor made).
std::string new_node_id();

// The node id kept in `data_dir`, or on a first start `wanted` (or a new_node_id()), checked but not
// yet kept: a first start keeps it (keep_node_id) only once the node serves, so a start that fails
// leaves nothing behind. A different --node-id for an existing data dir is refused: dots made
// under the old id live in its data.
struct NodeIdentity {
  std::string id;
  bool kept = false;  // read from the data dir
};
Result<NodeIdentity> read_node_id(const std::string& data_dir, const std::string& wanted);
Status keep_node_id(const std::string& data_dir, const std::string& id);

}  // namespace md::runtime
