#include "core/cluster_state.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
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
  auto ring = Ring::from_indexes(state.members, state.owners);
  if (!ring.is_ok()) return Status::invalid_argument("cluster state with a bad ring: " + ring.status().message());
  for (const auto& [address, id] : state.node_ids) {
    if (address.empty() || id.empty()) return Status::invalid_argument("cluster state with an empty address or node id");
  }
  return Status::ok();
}

bool merge(ClusterState& into, const ClusterState& other) {
  bool changed = false;
  // Only the claimant makes ring versions, so equal versions carry equal rings; the tie-break
  // only keeps merge deterministic should that ever be broken (e.g. two clusters' states mixed).
  if (std::tie(other.ring_version, other.members, other.owners) > std::tie(into.ring_version, into.members, into.owners)) {
    into.ring_version = other.ring_version;
    into.members = other.members;
    into.owners = other.owners;
    changed = true;
  }
  for (const auto& [address, id] : other.node_ids) changed |= announce(into, address, id);
  return changed;
}

bool announce(ClusterState& state, const std::string& address, const std::string& node_id) {
  auto [it, inserted] = state.node_ids.emplace(address, node_id);
  if (inserted || node_id <= it->second) return inserted;
  it->second = node_id;  // e.g. a wiped data dir restarted under a new id
  return true;
}

std::vector<std::string> joiners(const ClusterState& state) {
  std::vector<std::string> out;
  for (const auto& [address, id] : state.node_ids) {
    if (std::find(state.members.begin(), state.members.end(), address) == state.members.end()) out.push_back(address);
  }
  return out;
}

bool admit_joiners(ClusterState& state) {
  auto joining = joiners(state);
  if (joining.empty()) return false;
  std::vector<std::string> previous;
  previous.reserve(state.owners.size());
  for (MemberIndex m : state.owners) previous.push_back(state.members[m]);
  state.members.insert(state.members.end(), joining.begin(), joining.end());
  auto owners = claim(previous, state.members, static_cast<uint32_t>(state.owners.size()));
  for (size_t p = 0; p < owners.size(); ++p) {
    state.owners[p] = static_cast<MemberIndex>(
        std::find(state.members.begin(), state.members.end(), owners[p]) - state.members.begin());
  }
  ++state.ring_version;
  return true;
}

Ring ring_of(const ClusterState& state) { return std::move(Ring::from_indexes(state.members, state.owners)).value(); }

}  // namespace md::core
