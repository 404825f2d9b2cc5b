#include "core/cluster_state.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <tuple>

#include "core/claim.h"

namespace md::core {

ClusterState founding_state(const Ring& ring) {
  ClusterState state;
  // The same input the peer transport's fingerprint always had: Q, then the members in id order.
  std::string input = std::to_string(ring.partitions());
  auto sorted = ring.members();
  std::sort(sorted.begin(), sorted.end());
  for (const auto& m : sorted) input += "," + m;
  state.cluster_id = XXH3_64bits(input.data(), input.size());
  state.ring_version = 1;
  state.members = ring.members();
  for (uint32_t p = 0; p < ring.partitions(); ++p) state.owners.push_back(ring.owner(p));
  return state;
}

Status validate(const ClusterState& state) {
  if (state.ring_version == 0) return Status::invalid_argument("cluster state without a ring version");
  auto ring = Ring::from_indexes(state.members, state.owners, state.member_zones);
  if (!ring.is_ok()) return Status::invalid_argument("cluster state with a bad ring: " + ring.status().message());
  std::map<std::string, std::string> holders;  // id -> address
  for (const auto& [address, id] : state.node_ids) {
    if (address.empty() || id.empty()) return Status::invalid_argument("cluster state with an empty address or node id");
    auto [it, added] = holders.emplace(id, address);
    if (!added) return Status::invalid_argument("cluster state with node id " + id + " under two addresses");
  }
  for (const auto& [name, move] : state.moves) {
    if (move.address.empty() || move.version == 0) return Status::invalid_argument("cluster state with an empty move");
  }
  for (const auto& [name, zone] : state.zones) {
    if (auto valid = validate_zone(zone); !valid.is_ok()) return Status::invalid_argument("cluster state: " + valid.message());
  }
  for (const auto& zone : state.member_zones) {  // a member without a zone has an empty one
    if (auto valid = validate_zone(zone); !zone.empty() && !valid.is_ok()) {
      return Status::invalid_argument("cluster state: " + valid.message());
    }
  }
  if (auto valid = validate(state.users); !valid.is_ok()) return Status::invalid_argument("cluster state: " + valid.message());
  return Status::ok();
}

Status validate_zone(std::string_view zone) {
  constexpr size_t kZoneBytesMax = 64;
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  };
  if (zone.empty() || zone.size() > kZoneBytesMax || !std::all_of(zone.begin(), zone.end(), allowed)) {
    return Status::invalid_argument("a zone is 1 to 64 letters, digits, '.', '_' or '-', got '" +
                                    std::string(zone.substr(0, kZoneBytesMax)) + "'");
  }
  return Status::ok();
}

Result<bool> merge(ClusterState& into, const ClusterState& other) {
  // The ids first, on a copy: a refused merge changes nothing, not even the ring.
  auto ids = into.node_ids;
  bool changed = false;
  for (const auto& [address, id] : other.node_ids) {
    auto [it, added] = ids.emplace(address, id);
    if (!added && id > it->second) it->second = id;
    changed |= added || (it->second == id && id != into.node_ids.at(address));
  }
  std::map<std::string, std::string> holders;  // id -> address
  for (const auto& [address, id] : ids) {
    auto [it, added] = holders.emplace(id, address);
    if (!added) {
      return Status::conflict("node id " + id + " is claimed by both " + it->second + " and " + address +
                              "; a node id must name one node");
    }
  }
  into.node_ids = std::move(ids);
  for (const auto& [name, zone] : other.zones) {  // one zone per address: the larger, should two meet
    auto [it, added] = into.zones.emplace(name, zone);
    if (added) {
      changed = true;
    } else if (zone > it->second) {
      it->second = zone;
      changed = true;
    }
  }
  for (const auto& [name, move] : other.moves) {  // the newest move wins (ties: the larger address)
    auto it = into.moves.find(name);
    if (it == into.moves.end()) {
      into.moves.emplace(name, move);
      changed = true;
    } else if (it->second < move) {
      it->second = move;
      changed = true;
    }
  }
  changed |= merge_users(into.users, other.users);
  // Only the claimant makes ring versions, so equal versions carry equal rings; the tie-break
  // only keeps merge deterministic should that ever be broken (e.g. two clusters' states mixed).
  if (std::tie(other.ring_version, other.members, other.owners, other.member_zones) >
      std::tie(into.ring_version, into.members, into.owners, into.member_zones)) {
    into.ring_version = other.ring_version;
    into.members = other.members;
    into.owners = other.owners;
    into.member_zones = other.member_zones;
    changed = true;
  }
  return changed;
}

Result<bool> announce(ClusterState& state, const std::string& address, const std::string& node_id,
                      const std::string& zone) {
  ClusterState one;
  one.node_ids.emplace(address, node_id);
  if (!zone.empty()) one.zones.emplace(address, zone);
  return merge(state, one);
}

std::string other_holder(const ClusterState& state, const std::string& address, const std::string& node_id) {
  for (const auto& [a, id] : state.node_ids) {
    if (id == node_id && a != address) return a;
  }
  return {};
}

std::vector<std::string> joiners(const ClusterState& state) {
  std::vector<std::string> out;
  for (const auto& [address, id] : state.node_ids) {
    if (std::find(state.members.begin(), state.members.end(), address) == state.members.end()) out.push_back(address);
  }
  return out;
}

namespace {

// The zones the ring should place by: each member's announced zone, or none if no member has one.
std::vector<std::string> announced_member_zones(const ClusterState& state) {
  std::vector<std::string> zones;
  for (const auto& name : state.members) {
    auto it = state.zones.find(name);
    zones.push_back(it == state.zones.end() ? std::string() : it->second);
  }
  if (std::all_of(zones.begin(), zones.end(), [](const std::string& z) { return z.empty(); })) zones.clear();
  return zones;
}

}  // namespace

bool ring_behind(const ClusterState& state) {
  return !joiners(state).empty() || announced_member_zones(state) != state.member_zones;
}

bool advance_ring(ClusterState& state) {
  // At the largest version there is no next one: adding one would wrap to 0, a state every node
  // refuses. Only a corrupt or hostile state gets there; its ring then stays as it is.
  if (!ring_behind(state) || state.ring_version == std::numeric_limits<uint64_t>::max()) return false;
  auto joining = joiners(state);
  if (!joining.empty()) {
    std::vector<std::string> previous;
    previous.reserve(state.owners.size());
    for (MemberIndex m : state.owners) previous.push_back(state.members[m]);
    state.members.insert(state.members.end(), joining.begin(), joining.end());
    auto owners = claim(previous, state.members, static_cast<uint32_t>(state.owners.size()));
    for (size_t p = 0; p < owners.size(); ++p) {
      state.owners[p] = static_cast<MemberIndex>(
          std::find(state.members.begin(), state.members.end(), owners[p]) - state.members.begin());
    }
  }
  state.member_zones = announced_member_zones(state);
  ++state.ring_version;
  return true;
}

const std::string& current_address(const ClusterState& state, const std::string& name) {
  auto it = state.moves.find(name);
  return it == state.moves.end() ? name : it->second.address;
}

std::string find_self(const ClusterState& state, const std::string& node_id, const std::string& address) {
  for (const auto& name : state.members) {
    auto id = state.node_ids.find(name);
    if (id != state.node_ids.end() && id->second == node_id) return name;
  }
  for (const auto& name : state.members) {
    if (current_address(state, name) == address) return name;
  }
  return {};
}

bool move_member(ClusterState& state, const std::string& name, const std::string& address) {
  if (current_address(state, name) == address) return false;
  auto& move = state.moves[name];
  move = Move{address, move.version + 1};
  return true;
}

Ring ring_of(const ClusterState& state) {
  return std::move(Ring::from_indexes(state.members, state.owners, state.member_zones)).value();
}

}  // namespace md::core
