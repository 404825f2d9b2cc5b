// The cluster's membership as one node knows it, spread by gossip (core/membership.h).
//
// Two parts, each merged so that any two nodes that have seen the same states agree, whatever the
// order (merge is commutative, associative and idempotent):
//  - The ring: the members (addresses) in the order they joined, so a member's index (its
//    MemberIndex) is the same on every node and never changes, the owner of each partition, and
//    the zones replicas are placed by (core/ring.h), under a version. Only the claimant, the ring's first member, makes new versions, so versions
//    are totally ordered and a merge keeps the higher one (Riak's claimant).
//  - The announced node ids: address -> node id, grown by every node (its own entry) and by nodes
//    that ask to join (`--join`). A node id names one node: a state never holds one id under two
//    addresses (announce and merge refuse it), since two nodes making dots under one id would take
//    each other's writes for their own. An address announced but not yet in the ring is joining; the
//    claimant adds every joiner in its next ring version, moving the fewest partitions
//    (core/claim.h), and the new ring spreads like any other state.
//  - The announced zones: address -> zone, from each node started with --zone (with its id). The
//    claimant places by them from its next ring version on, so placement changes only with the
//    ring's version, like ownership. A node's zone is fixed once announced (the runtime refuses
//    to start a node under another); should two zones ever be announced for one address, every
//    node keeps the larger.
//  - Where members are now: a member is named by the address it founded or joined the cluster
//    with, and that name never changes (it numbers the ring); a node that comes back at another
//    address (found by its node id in the state it kept) records a move under a higher version,
//    and peers connect to the newest address (current_address). Its id, partitions and data stay.
//  - The users and their grants (core/users.h), each under its own revision: any node may change
//    one (an admin request), and merge keeps each user's highest revision.
//  - The departures asked for (an admin's leave, remove or replace, through any member): grown
//    by every node, like the announced ids. The claimant plans each change of ownership (joins and
//    departures alike) as a ring version that keeps the serving owners and names the next ones
//    (next_owners) with the transfers that must land first: each partition's data, streamed to
//    every member that becomes one of its first N replicas (core/transfers.h). The source nodes
//    record their progress in the state (merged by the most progress), and once every transfer
//    is done the claimant makes the next owners serve, in one more version. Members are never
//    taken out of the member list (indexes stay): a member that departed owns nothing and is in
//    no preference list.
// The cluster id (a hash of Q and the founding members) names the cluster: states and peers of
// another cluster are refused.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ring.h"
#include "core/status.h"
#include "core/users.h"

namespace md::core {

// A member's address since it moved, under a version its node raises with each move.
struct Move {
  std::string address;
  uint64_t version = 0;
  auto operator<=>(const Move&) const = default;
};

// How a member leaves: it hands its partitions off itself (leave), the others rebuild them from
// the surviving replicas (remove: a dead node), or one new node takes exactly its partitions
// (replace), rebuilt the same way.
enum class DepartureKind : uint8_t { leave = 1, remove = 2, replace = 3 };
const char* to_string(DepartureKind kind);

struct Departure {
  DepartureKind kind = DepartureKind::leave;
  std::string replacement;  // replace: the new node's address (it joins with --join)
  auto operator<=>(const Departure&) const = default;
};

// One partition's data on its way to a member that becomes one of its replicas under the next
// owners, from one that holds it. `keys` and `cursor` are what `to` acknowledged so far: a
// transfer resumes after its cursor, also after a restart of either side.
struct Transfer {
  uint32_t partition = 0;
  MemberIndex from = 0;
  MemberIndex to = 0;
  uint64_t keys = 0;   // sent and acknowledged
  std::string cursor;  // the last key acknowledged; empty: none yet
  bool done = false;
  auto operator<=>(const Transfer&) const = default;
};

struct ClusterState {
  uint64_t cluster_id = 0;
  uint64_t ring_version = 0;
  std::vector<std::string> members;             // names, in joining order: index = MemberIndex
  std::vector<MemberIndex> owners;              // per partition
  std::map<std::string, std::string> node_ids;  // announced: members and joiners, by name
  std::map<std::string, Move> moves;            // member name -> its newest address, if it moved
  std::map<std::string, std::string> zones;     // announced: name -> zone, for nodes given one
  std::vector<std::string> member_zones;        // per member, under ring_version; empty: no zones
  Users users;                                  // who may do what (core/users.h); empty: nobody yet
  std::map<std::string, Departure> departures;  // asked for: member name -> how it leaves
  std::vector<MemberIndex> next_owners;         // per partition, under ring_version; empty: no change under way
  std::vector<Transfer> transfers;              // under ring_version: what must land before next_owners serve

  bool operator==(const ClusterState&) const = default;
};

// Where member `name` is now: its newest move's address, or its name.
const std::string& current_address(const ClusterState& state, const std::string& name);

// The member whose node id is `node_id`, else the one now at `address`; empty if neither. This is
// how a node finds itself in the state it kept: by its id first, since its address may change.
std::string find_self(const ClusterState& state, const std::string& node_id, const std::string& address);

// Records that member `name` is now at `address` (a newer move). Returns true if the state changed.
bool move_member(ClusterState& state, const std::string& name, const std::string& address);

// The state of a cluster founded with `ring` (its members in ring order): ring version 1.
ClusterState founding_state(const Ring& ring);

// Checks a state received from elsewhere (a peer, a file) before it is used; errors say what is wrong.
Status validate(const ClusterState& state);

// A zone name is 1 to 64 letters, digits, '.', '_' or '-'; the error says what is wrong.
Status validate_zone(std::string_view zone);

// Records that `address` is node `node_id`, in `zone` if not empty; one address announced with
// two ids keeps the larger, on every node alike (a data dir replaced under a new id), and so does
// one announced in two zones. Returns true if the state changed. An id that another address holds
// is refused (Code::conflict, naming both addresses) and the state is left as it was.
Result<bool> announce(ClusterState& state, const std::string& address, const std::string& node_id,
                      const std::string& zone = {});

// Merges `other` into `into` (same cluster id; the caller checks). Returns true if `into` changed.
// A merge under which one id would name two addresses is refused like announce's, leaving `into`
// as it was.
Result<bool> merge(ClusterState& into, const ClusterState& other);

// The address other than `address` that holds `node_id` in `state`; empty if none does.
std::string other_holder(const ClusterState& state, const std::string& address, const std::string& node_id);

// The addresses announced but not in the ring, in address order.
std::vector<std::string> joiners(const ClusterState& state);

// The claimant's step, planning for keys kept on `n` replicas: the next ring version, if there is
// one to make. It
//  - plans a change of owners when the owners wanted differ from those planned: every joiner
//    added to the members, the departures taken out (a replacement takes exactly its old node's
//    partitions), by claim (core/claim.h), with the transfers it needs (keeping the progress of
//    those the last plan had too); a change that moves no data serves at once;
//  - makes the planned owners serve once every transfer is done;
//  - gives a transfer whose source is not reached another source among the partition's replicas
//    that is, keeping its progress (the keys before its cursor have landed);
//  - places by every zone announced.
// `up[m]` says whether the claimant reaches member m (empty: all): sources are chosen among those. Returns true if it made a version; false if there was none to make,
// and at the largest ring version, which has no next one (only a corrupt state gets there). A
// departure that would leave no member serving is not planned.
bool advance_ring(ClusterState& state, uint32_t n, const std::vector<bool>& up = {});
// True if advance_ring has a version to make.
bool ring_behind(const ClusterState& state, uint32_t n, const std::vector<bool>& up = {});

// Records a transfer's progress (the source's), if it is more than the state holds; true if the
// state changed. A transfer the state does not plan (any more) is ignored.
bool record_transfer(ClusterState& state, const Transfer& progress);

// Checks an admin's departure of member `name` against the state: a member that has not left and
// is not departing already (save a leave turned into a remove or a replace: a leaver that died),
// a replacement that is not a member, and at least one member left serving.
Status check_departure(const ClusterState& state, const std::string& name, const Departure& departure);

// The ring the state describes (members in state order), and the one it is heading for while a
// change of owners is under way (nullopt when none is). The state must be valid.
Ring ring_of(const ClusterState& state);
std::optional<Ring> next_ring_of(const ClusterState& state);

// A member that left the ring: its departure was asked for and it owns nothing, now or next.
bool departed(const ClusterState& state, MemberIndex member);

// The claimant: the member that makes ring versions, the first one not departing.
MemberIndex claimant(const ClusterState& state);

}  // namespace md::core
