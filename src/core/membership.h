// Membership by gossip: the cluster state (core/cluster_state.h: the ring under its version, the
// announced node ids, where members are now) as this node knows it, and the ring it serves by.
// Every gossip interval the node sends its whole state to one random reachable member, which
// merges it and answers with its own if they differed (push-pull); a change reaches every node in
// O(log n) rounds (tests/sim/membership_test.cc, docs/design.md). A node asking to join is
// announced in the state, which gossip carries to the claimant (the ring's first member), who
// admits every joiner, and places by every zone announced, in its next ring version. Departures
// (leave, remove, replace) travel the same way, and the claimant plans every change of owners with
// the transfers it needs (core/cluster_state.h). A node id names one node: a state, a join or a
// hello that puts this node's id under another address stops this node versioning writes.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/cluster_state.h"
#include "core/messages.h"
#include "core/outbox.h"
#include "core/peers.h"
#include "core/ring.h"

namespace md::core {

struct MembershipCounters {
  uint64_t gossip_rounds = 0;          // cluster states this node sent on its own initiative
  uint64_t gossip_refused = 0;         // states received from another cluster, or invalid ones
  uint64_t duplicate_ids_refused = 0;  // states, joins and hellos refused: a node id held by another address
  uint64_t ring_changes = 0;           // newer ring versions adopted (or made, by the claimant)
};

class Membership {
 public:
  // This node is member `self` of `state` (valid) under `node_id`, in `zone` (empty: none); it
  // announces both in the state (a SaveClusterState if that changed it). `seed` picks the gossip
  // partners. As claimant it plans transfers for keys kept on `n` replicas.
  Membership(Outbox& out, ClusterState state, MemberIndex self, std::string node_id, const std::string& zone,
             uint64_t gossip_interval_ms, uint64_t seed, uint32_t n);
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Gossips with one random member that is up, every gossip interval.
  void on_tick(Outbox& out, const Peers& peers, uint64_t now_ms);
  void on_gossip(Outbox& out, MemberIndex from, Gossip gossip);
  // A peer's Hello: the id it runs under must not be this node's.
  void on_hello(Outbox& out, MemberIndex from, const std::string& node_id);
  // A node at `address` with `node_id`, in `zone` (empty: none), asks to join through this node:
  // Code::conflict if another address holds the id, Code::unavailable while this node does not know
  // every member's id yet.
  Status on_join_request(Outbox& out, const std::string& address, const std::string& node_id,
                         const std::string& zone);

  // An admin's change to user `name` (core/users.h), made here and spread by gossip: `user` becomes
  // the record under the next revision (any revision it carries is ignored). Refused (nothing
  // changed) if the name or a grant is invalid.
  Status change_user(Outbox& out, const std::string& name, User user);

  // An admin asks member `name` to depart (check_departure says what is refused); gossip carries
  // it to the claimant, which plans it.
  Status request_departure(Outbox& out, const std::string& name, const Departure& departure);
  // A transfer this node sends made progress (core/transfers.h): kept and gossiped.
  void transfer_progress(Outbox& out, const Transfer& progress);

  const ClusterState& state() const { return state_; }
  // The ring of the newest version this node knows (it changes with state(); see ring_version()).
  const Ring& ring() const { return ring_; }
  // The ring it heads for while owners change (nullopt when they do not): writes reach its
  // replicas too.
  const std::optional<Ring>& next_ring() const { return next_ring_; }
  // This node left the cluster (it owns nothing and departed): it serves nothing any more.
  bool departed() const { return ring_.departed(self_); }
  uint64_t ring_version() const { return ring_version_; }
  MemberIndex self() const { return self_; }
  const std::string& node_id() const { return node_id_; }
  // The address of another node found claiming this node's id; empty if none.
  const std::string& id_conflict() const { return id_conflict_; }
  const MembershipCounters& counters() const { return counters_; }

 private:
  // After the state changed: the claimant makes the next ring if it is behind; a newer ring is
  // served from now on.
  void changed(Outbox& out);
  // A duplicate node id was refused: counts it, warns once per message, and stops versioning
  // writes if it is this node's id (`holder` is then the other address).
  void refused_duplicate_id(Outbox& out, const std::string& message, const std::string& holder,
                            const std::string& id);

  ClusterState state_;
  uint64_t ring_version_;  // of ring_
  Ring ring_;
  std::optional<Ring> next_ring_;
  uint32_t n_;
  std::vector<bool> up_;  // per member, as of the last tick: who the claimant can reach (transfer sources)
  MemberIndex self_;
  std::string node_id_;
  std::string id_conflict_;
  std::set<std::string> warned_;  // Warn messages already said
  uint64_t gossip_interval_ms_;
  uint64_t gossip_rng_;
  uint64_t next_gossip_ms_ = 0;
  MembershipCounters counters_;
};

}  // namespace md::core
