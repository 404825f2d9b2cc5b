#include "core/cluster_state.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <limits>
#include <span>
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
  for (const auto& [name, departure] : state.departures) {
    if (name.empty() || departure.kind < DepartureKind::leave || departure.kind > DepartureKind::replace ||
        (departure.kind == DepartureKind::replace) == departure.replacement.empty()) {
      return Status::invalid_argument("cluster state with a bad departure of '" + name + "'");
    }
  }
  if (!state.next_owners.empty()) {
    if (state.next_owners.size() != state.owners.size()) {
      return Status::invalid_argument("cluster state whose next owners do not cover the partitions");
    }
    for (MemberIndex m : state.next_owners) {
      if (m >= state.members.size()) return Status::invalid_argument("cluster state with a next owner not a member");
    }
  } else if (!state.transfers.empty()) {
    return Status::invalid_argument("cluster state with transfers but no next owners");
  }
  for (const auto& t : state.transfers) {
    if (t.partition >= state.owners.size() || t.from >= state.members.size() || t.to >= state.members.size() ||
        t.from == t.to) {
      return Status::invalid_argument("cluster state with a bad transfer of partition " + std::to_string(t.partition));
    }
  }
  return Status::ok();
}

const char* to_string(DepartureKind kind) {
  switch (kind) {
    case DepartureKind::leave: return "leave";
    case DepartureKind::remove: return "remove";
    case DepartureKind::replace: return "replace";
  }
  return "?";
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
  for (const auto& [name, departure] : other.departures) {  // one per member: the larger, should two meet
    auto [it, added] = into.departures.emplace(name, departure);
    if (added) {
      changed = true;
    } else if (it->second < departure) {
      it->second = departure;
      changed = true;
    }
  }
  // Only the claimant makes ring versions, so equal versions mostly carry equal rings. When the
  // claimant departs, the next member may make a version of the number its predecessor made
  // unseen: the tie-break picks one on every node alike, and the claimant plans again whatever
  // the other held (joins and departures are kept apart, in grow-only maps). Equal plans merge
  // their transfers' progress.
  auto plan = [](const ClusterState& s) {
    std::vector<std::tuple<uint32_t, MemberIndex, MemberIndex>> moves;
    for (const auto& t : s.transfers) moves.emplace_back(t.partition, t.from, t.to);
    return std::tuple(s.ring_version, s.members, s.owners, s.member_zones, s.next_owners, moves);
  };
  auto mine = plan(into), theirs = plan(other);
  if (theirs > mine) {
    into.ring_version = other.ring_version;
    into.members = other.members;
    into.owners = other.owners;
    into.member_zones = other.member_zones;
    into.next_owners = other.next_owners;
    into.transfers = other.transfers;
    changed = true;
  } else if (theirs == mine) {
    for (const auto& t : other.transfers) changed |= record_transfer(into, t);
  }
  return changed;
}

bool record_transfer(ClusterState& state, const Transfer& progress) {
  for (auto& t : state.transfers) {
    if (t.partition != progress.partition || t.from != progress.from || t.to != progress.to) continue;
    // The most progress: done over not done, then more keys (the cursor moves with them).
    if (std::tie(progress.done, progress.keys, progress.cursor) <= std::tie(t.done, t.keys, t.cursor)) return false;
    t = progress;
    return true;
  }
  return false;
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

bool owns(const std::vector<MemberIndex>& owners, MemberIndex m) {
  return std::find(owners.begin(), owners.end(), m) != owners.end();
}

// What the claimant heads for: the members with every joiner added, and the owners that claim
// gives them with the departures taken out.
struct Target {
  std::vector<std::string> members;
  std::vector<MemberIndex> owners;
  std::vector<std::string> zones;
};

Target target_of(const ClusterState& state) {
  Target target{state.members, state.owners, {}};
  for (const auto& joiner : joiners(state)) target.members.push_back(joiner);
  // A replacement inherits its old node's partitions: claim keeps them with it, being its share.
  std::map<std::string, std::string> replaced;  // old -> new, once the new node has announced itself
  for (const auto& [name, departure] : state.departures) {
    if (departure.kind == DepartureKind::replace && state.node_ids.contains(departure.replacement) &&
        !state.departures.contains(departure.replacement)) {
      replaced.emplace(name, departure.replacement);
    }
  }
  std::vector<std::string> previous;
  previous.reserve(state.owners.size());
  for (MemberIndex m : state.owners) {
    auto it = replaced.find(state.members[m]);
    previous.push_back(it == replaced.end() ? state.members[m] : it->second);
  }
  std::vector<std::string> staying;  // a node to be replaced stays until its replacement has joined
  for (const auto& name : target.members) {
    auto it = state.departures.find(name);
    if (it == state.departures.end() || (it->second.kind == DepartureKind::replace && !replaced.contains(name))) {
      staying.push_back(name);
    }
  }
  if (!staying.empty()) {  // else: a departure that would leave no one serving is not planned
    auto owners = claim(previous, staying, static_cast<uint32_t>(state.owners.size()));
    for (size_t p = 0; p < owners.size(); ++p) {
      target.owners[p] = static_cast<MemberIndex>(
          std::find(target.members.begin(), target.members.end(), owners[p]) - target.members.begin());
    }
  }
  // The zones to place by: each member's announced zone, or none if no member has one.
  for (const auto& name : target.members) {
    auto it = state.zones.find(name);
    target.zones.push_back(it == state.zones.end() ? std::string() : it->second);
  }
  if (std::all_of(target.zones.begin(), target.zones.end(), [](const std::string& z) { return z.empty(); })) {
    target.zones.clear();
  }
  return target;
}

// The transfers that moving from `from` to `to` needs, for keys on n replicas: every partition's
// data to each member that becomes one of its first n replicas, from one that was: the member it
// replaces in the list if that one hands off itself (a join's giver, a leaver), else a replica
// kept in both (a removed or replaced node may be dead).
// The members that may send partition p's data, best first: the ones that drop out of its list
// and hand off themselves (a join's giver, a leaver), then those kept in both lists, then the
// rest of the old list (a removed or replaced node may be dead). Among them, the first that is up.
MemberIndex source_of(const ClusterState& state, std::span<const MemberIndex> before,
                      std::span<const MemberIndex> after, const std::vector<bool>& up) {
  auto in = [](std::span<const MemberIndex> list, MemberIndex m) { return std::find(list.begin(), list.end(), m) != list.end(); };
  auto hands_off = [&](MemberIndex m) {
    auto it = state.departures.find(state.members[m]);
    return it == state.departures.end() || it->second.kind == DepartureKind::leave;
  };
  std::vector<MemberIndex> candidates;
  for (MemberIndex m : before) {
    if (!in(after, m) && hands_off(m)) candidates.push_back(m);
  }
  for (MemberIndex m : before) {
    if (in(after, m)) candidates.push_back(m);
  }
  for (MemberIndex m : before) {
    if (!in(candidates, m)) candidates.push_back(m);
  }
  for (MemberIndex m : candidates) {
    if (up.empty() || up[m]) return m;
  }
  return candidates.front();
}

// The transfers that moving from `from` to `to` needs, for keys on n replicas: every partition's
// data to each member that becomes one of its first n replicas, from one that was (source_of).
std::vector<Transfer> transfers_between(const ClusterState& state, const Ring& from, const Ring& to, uint32_t n,
                                        const std::vector<bool>& up) {
  std::vector<Transfer> transfers;
  const size_t n_from = std::min<size_t>(n, from.serving()), n_to = std::min<size_t>(n, to.serving());
  for (uint32_t p = 0; p < from.partitions(); ++p) {
    auto before = from.preference_list(p, n_from), after = to.preference_list(p, n_to);
    const MemberIndex source = source_of(state, before, after, up);
    for (MemberIndex m : after) {
      if (std::find(before.begin(), before.end(), m) == before.end()) transfers.push_back(Transfer{p, source, m, 0, {}, false});
    }
  }
  return transfers;
}

// Gives each unfinished transfer whose source is down a source that is up, keeping its progress:
// what came before its cursor has landed, and the new source goes on after it. True if any moved.
bool resource_transfers(ClusterState& state, uint32_t n, const std::vector<bool>& up) {
  if (up.empty() || state.next_owners.empty()) return false;
  const Ring from = ring_of(state), to = *next_ring_of(state);
  const size_t n_from = std::min<size_t>(n, from.serving()), n_to = std::min<size_t>(n, to.serving());
  bool moved = false;
  for (auto& t : state.transfers) {
    if (t.done || up[t.from]) continue;
    const MemberIndex source = source_of(state, from.preference_list(t.partition, n_from),
                                         to.preference_list(t.partition, n_to), up);
    if (source == t.from || source == t.to || !up[source]) continue;
    t.from = source;
    moved = true;
  }
  return moved;
}

}  // namespace

bool advance_ring(ClusterState& state, uint32_t n, const std::vector<bool>& up) {
  // At the largest version there is no next one: adding one would wrap to 0, a state every node
  // refuses. Only a corrupt or hostile state gets there; its ring then stays as it is.
  if (state.ring_version == std::numeric_limits<uint64_t>::max()) return false;
  Target target = target_of(state);
  const auto& heading = state.next_owners.empty() ? state.owners : state.next_owners;
  const bool all_done = std::all_of(state.transfers.begin(), state.transfers.end(), [](const Transfer& t) { return t.done; });
  if (target.owners != heading || target.members.size() != state.members.size()) {
    // A new plan, from the owners serving now; transfers it shares with the last plan keep their progress.
    auto previous = std::move(state.transfers);
    state.members = std::move(target.members);
    state.member_zones = std::move(target.zones);
    state.next_owners.clear();
    state.transfers.clear();
    if (target.owners != state.owners) {
      Ring now = ring_of(state);
      state.next_owners = target.owners;
      Ring next = *next_ring_of(state);
      state.transfers = transfers_between(state, now, next, n, up);
      for (const auto& t : previous) record_transfer(state, t);
      if (state.transfers.empty()) {  // nothing to move: the new owners serve at once
        state.owners = std::move(state.next_owners);
        state.next_owners.clear();
      }
    }
  } else if (!state.next_owners.empty() && all_done) {
    state.owners = std::move(state.next_owners);
    state.next_owners.clear();
    state.transfers.clear();
  } else if (!resource_transfers(state, n, up)) {
    if (target.zones == state.member_zones) return false;
    state.member_zones = std::move(target.zones);
  }
  ++state.ring_version;
  return true;
}

bool ring_behind(const ClusterState& state, uint32_t n, const std::vector<bool>& up) {
  ClusterState next = state;
  return advance_ring(next, n, up);
}

Status check_departure(const ClusterState& state, const std::string& name, const Departure& departure) {
  if (std::find(state.members.begin(), state.members.end(), name) == state.members.end()) {
    return Status::invalid_argument(name + " is not a member of the cluster");
  }
  const auto m = static_cast<MemberIndex>(std::find(state.members.begin(), state.members.end(), name) - state.members.begin());
  if (departed(state, m)) return Status::conflict(name + " has left the cluster already");
  // A leave may become a remove or a replace (the leaver died before its transfers were done);
  // merge keeps the larger kind, so every node ends with the same.
  if (auto it = state.departures.find(name); it != state.departures.end() && it->second.kind >= departure.kind) {
    return Status::conflict(name + " is already departing (" + to_string(it->second.kind) + ")");
  }
  if (departure.kind == DepartureKind::replace) {
    if (std::find(state.members.begin(), state.members.end(), departure.replacement) != state.members.end()) {
      return Status::invalid_argument(departure.replacement +
                                      " is a member already: a replacement is a new node, started with --join after "
                                      "the replace is asked for");
    }
    for (const auto& [old, d] : state.departures) {
      if (d.replacement == departure.replacement) {
        return Status::conflict(departure.replacement + " is already replacing " + old);
      }
    }
    return Status::ok();
  }
  size_t staying = 0;
  for (const auto& member : state.members) staying += !state.departures.contains(member) && member != name;
  if (staying == 0) return Status::invalid_argument("no member would be left serving: " + name + " is the last one");
  return Status::ok();
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

bool departed(const ClusterState& state, MemberIndex member) {
  return state.departures.contains(state.members[member]) && !owns(state.owners, member) &&
         !owns(state.next_owners, member);
}

namespace {

std::vector<bool> departed_members(const ClusterState& state) {
  std::vector<bool> out(state.members.size());
  for (MemberIndex m = 0; m < out.size(); ++m) out[m] = departed(state, m);
  return out;
}

}  // namespace

Ring ring_of(const ClusterState& state) {
  return std::move(Ring::from_indexes(state.members, state.owners, state.member_zones, departed_members(state))).value();
}

std::optional<Ring> next_ring_of(const ClusterState& state) {
  if (state.next_owners.empty()) return std::nullopt;
  return std::move(Ring::from_indexes(state.members, state.next_owners, state.member_zones, departed_members(state)))
      .value();
}

MemberIndex claimant(const ClusterState& state) {
  for (MemberIndex m = 0; m < state.members.size(); ++m) {
    if (!state.departures.contains(state.members[m])) return m;
  }
  return 0;
}

}  // namespace md::core
