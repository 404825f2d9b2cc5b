#include "runtime/config.h"

#include "runtime/durable_file.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <sched.h>

namespace md::runtime {
namespace {

Result<std::pair<std::string, uint16_t>> split_address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::invalid_argument("address '" + address + "' is not host:port");
  }
  unsigned port = 0;
  const char* begin = address.data() + colon + 1;
  const char* end = address.data() + address.size();
  auto [ptr, ec] = std::from_chars(begin, end, port);
  if (ec != std::errc() || ptr != end || port == 0 || port > 65535) {
    return Status::invalid_argument("address '" + address + "' has no valid port");
  }
  return std::make_pair(address.substr(0, colon), static_cast<uint16_t>(port));
}

}  // namespace

uint32_t default_threads() {
  cpu_set_t cpus;
  CPU_ZERO(&cpus);
  if (sched_getaffinity(0, sizeof(cpus), &cpus) != 0) return 1;  // taskset, cgroups' cpusets
  return static_cast<uint32_t>(std::clamp(CPU_COUNT(&cpus), 1, 64));
}

std::string self_address(const NodeConfig& config) {
  return config.advertise.empty() ? config.host + ":" + std::to_string(config.port) : config.advertise;
}

Result<std::vector<std::string>> founding_members(const NodeConfig& config) {
  auto members = config.nodes;
  std::sort(members.begin(), members.end());
  if (members.empty()) return Status::invalid_argument("--nodes must list at least this node");
  if (std::adjacent_find(members.begin(), members.end()) != members.end()) {
    return Status::invalid_argument("--nodes lists an address twice");
  }
  if (std::find(members.begin(), members.end(), self_address(config)) == members.end()) {
    return Status::invalid_argument("this node's address " + self_address(config) + " is not in --nodes");
  }
  for (const auto& m : members) {
    if (auto endpoint = peer_endpoint(m, config.peer_port_offset); !endpoint.is_ok()) return endpoint.status();
  }
  return members;
}

namespace {

Result<uint16_t> client_port(std::optional<uint32_t> given, uint32_t offset_from_http, uint16_t http_port,
                             const char* flag) {
  const uint32_t port = given.value_or(http_port + offset_from_http);
  if (port > 65535) {
    return Status::invalid_argument(std::string(flag) + (given ? " " + std::to_string(port) + " is above 65535"
                                                               : " defaults to the HTTP port + " +
                                                                     std::to_string(offset_from_http) +
                                                                     ", above 65535: give it (0 turns it off)"));
  }
  return static_cast<uint16_t>(port);
}

}  // namespace

Result<uint16_t> resp_port(const NodeConfig& config) {
  return client_port(config.resp_port, 1379, config.port, "--resp-port");
}

Result<uint16_t> grpc_port(const NodeConfig& config) {
  return client_port(config.grpc_port, 2000, config.port, "--grpc-port");
}

Result<std::pair<std::string, uint16_t>> peer_endpoint(const std::string& member, uint16_t peer_port_offset) {
  auto split = split_address(member);
  if (!split.is_ok()) return split.status();
  if (split->second + peer_port_offset > 65535) {
    return Status::invalid_argument("--peer-port-offset puts " + member + "'s peer port above 65535");
  }
  return std::make_pair(split->first, static_cast<uint16_t>(split->second + peer_port_offset));
}

std::string new_node_id() {
  std::random_device entropy;
  char id[5 + 32 + 1];
  std::snprintf(id, sizeof id, "node_%08x%08x%08x%08x", entropy(), entropy(), entropy(), entropy());
  return id;
}

Result<NodeIdentity> read_node_id(const std::string& data_dir, const std::string& wanted) {
  const std::filesystem::path file = std::filesystem::path(data_dir) / "NODE_ID";
  std::ifstream in(file);
  std::string kept;
  if (in && std::getline(in, kept) && !kept.empty()) {
    if (!wanted.empty() && wanted != kept) {
      return Status::invalid_argument("--node-id " + wanted + " differs from the id " + kept + " kept in " +
                                      file.string() + "; use that id or a new data dir");
    }
    return NodeIdentity{kept, true};
  }
  std::string id = wanted.empty() ? new_node_id() : wanted;
  if (id.size() > 128 || id.find_first_of(" \t\r\n\"\\") != std::string::npos) {
    return Status::invalid_argument("--node-id must be at most 128 characters without spaces, quotes or backslashes");
  }
  return NodeIdentity{id, false};
}

Status keep_node_id(const std::string& data_dir, const std::string& id) {
  return write_file_durably((std::filesystem::path(data_dir) / "NODE_ID").string(), id + "\n");
}

}  // namespace md::runtime
