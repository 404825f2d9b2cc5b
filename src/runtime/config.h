// Everything a node process is configured with, with defaults that give the seed's local cluster.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/node.h"
#include "core/status.h"
#include "net/http_api.h"
#include "storage/engine.h"

namespace md::runtime {

struct NodeConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 5001;                      // HTTP API
  uint16_t peer_port_offset = 1000;          // every node's peer port is its HTTP port + this
  std::vector<std::string> nodes = {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"};  // founding members' HTTP addresses
  std::string join;                          // an HTTP address: join that node's cluster instead of founding one
  std::string data_dir;                      // default: ./data/node_<port>
  std::string node_id;                       // default: node_<port>, then kept in the data dir
  uint32_t partitions = core::kDefaultPartitions;  // Q; every node of a cluster must agree
  std::string engine = "rocksdb";            // or "memory" (nothing survives a restart)
  storage::Options storage;
  uint32_t commit_window_us = 1000;          // with --sync always: at most one fsync per window (durable_writer.h)
  core::NodeOptions core;
  net::ApiLimits limits;
  uint32_t tick_ms = 5;                      // how often deadlines are checked
};

// This node's HTTP address, as members know it: host:port.
std::string self_address(const NodeConfig& config);

// The founding members (--nodes), checked (this node among them, no address twice, every peer port
// valid) and sorted. Errors say which flag is wrong.
Result<std::vector<std::string>> founding_members(const NodeConfig& config);

// A member's peer endpoint (host, peer port) from its HTTP address host:port.
Result<std::pair<std::string, uint16_t>> peer_endpoint(const std::string& member, uint16_t peer_port_offset);

// Reads the node id kept in `data_dir`, or keeps `wanted` (or node_<port>) there on first start.
// A different --node-id for an existing data dir is refused: dots made under the old id live in its data.
Result<std::string> load_node_id(const std::string& data_dir, const std::string& wanted, uint16_t port);

}  // namespace md::runtime
