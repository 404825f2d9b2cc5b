// The cluster's membership as one node knows it, spread by gossip (Node, core/node_membership.cc).
//
// Two parts, each merged so that any two nodes that have seen the same states agree, whatever the
// order (merge is commutative, associative and idempotent):
//  - The ring: the members (addresses) in the order they joined, so a member's index (its
//    MemberIndex) is the same on every node and never changes, and the owner of each partition,
//    under a version. Only the claimant, the ring's first member, makes new versions, so versions
//    are totally ordered and a merge keeps the higher one (Riak's claimant).
//  - The announced node ids: address -> node id, grown by every node (its own entry) and by nodes
//    that ask to join (`--join`). A node id names one node: a state never holds one id under two
//    addresses (announce and merge refuse it), since two nodes making dots under one id would take
//    each other's writes for their own. An address announced but not yet in the ring is joining; the
//    claimant adds every joiner in its next ring version, moving the fewest partitions
//    (core/claim.h), and the new ring spreads like any other state.
// The cluster id (a hash of Q and the founding members) names the cluster: states and peers of
// another cluster are refused.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/ring.h"
#include "core/status.h"

namespace md::core {

struct ClusterState {
  uint64_t cluster_id = 0;
  uint64_t ring_version = 0;
  std::vector<std::string> members;             // in joining order: index = MemberIndex
  std::vector<MemberIndex> owners;              // per partition
  std::map<std::string, std::string> node_ids;  // announced: members and joiners

  bool operator==(const ClusterState&) const = default;
};

// The state of a cluster founded with `ring` (its members in ring order): ring version 1.
ClusterState founding_state(const Ring& ring);

// Checks a state received from elsewhere (a peer, a file) before it is used; errors say what is wrong.
Status validate(const ClusterState& state);

// Records that `address` is node `node_id`; one address announced with two ids keeps the larger,
// on every node alike (a data dir replaced under a new id). Returns true if the state changed.
// An id that another address holds is refused (Code::conflict, naming both addresses) and the
// state is left as it was.
Result<bool> announce(ClusterState& state, const std::string& address, const std::string& node_id);

// Merges `other` into `into` (same cluster id; the caller checks). Returns true if `into` changed.
// A merge under which one id would name two addresses is refused like announce's, leaving `into`
// as it was.
Result<bool> merge(ClusterState& into, const ClusterState& other);

// The address other than `address` that holds `node_id` in `state`; empty if none does.
std::string other_holder(const ClusterState& state, const std::string& address, const std::string& node_id);

// The addresses announced but not in the ring, in address order.
std::vector<std::string> joiners(const ClusterState& state);

// The claimant's step: adds every joiner to the ring under the next version. Returns true if it did.
bool admit_joiners(ClusterState& state);

// The ring the state describes (members in state order). The state must be valid.
Ring ring_of(const ClusterState& state);

// The claimant: the member that makes ring versions.
inline MemberIndex claimant(const ClusterState&) { return 0; }

}  // namespace md::core
