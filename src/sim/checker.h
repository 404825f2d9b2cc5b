// The invariants every simulated run must keep (docs/simulation.md states them in words):
//  lost_write          an acknowledged write is neither present after convergence nor overwritten
//                      by a write whose context covered it (or, with sync=always, a stored write vanished);
//  stale_sibling       a sibling survives although a write whose context covered it took effect:
//                      siblings only for true concurrency;
//  resurrected_delete  the same, when the overwriting write was a delete (the value came back);
//  resurrected_after_reap  a value that a reaped tombstone had deleted is back;
//  reused_dot          two writes of a key were stored under the same dot (a coordinator counted
//                      again from below a counter it had used: after a crash or a reaped tombstone);
//  duplicated_write    one client write was stored under two dots (coordinated twice: a client that
//                      read one copy and wrote back would not replace the other);
//  divergent_replicas  after healing and a read of every key with R=N, replicas hold different objects;
//  stale_read          with R+W>N and no faults, a read missed an acknowledged write that finished before it.
// A reaped tombstone's context stays part of its key's history: what it covered was deleted, and a
// replica's tombstone that a reaping covers counts as no object (its removal may not have reached
// every replica yet).
// and, observed after healing and before any further request (check_healed):
//  undelivered_hint    a node still holds hints: each must be delivered (or superseded) and removed;
//  missing_replica     an acknowledged write is not on (or overwritten on) every one of its N replicas,
//                      although no read repaired anything yet: hinted handoff must bring it there.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/dvv_set.h"
#include "sim/cluster.h"
#include "sim/history.h"

namespace md::sim {

struct FinalState {
  std::map<std::string, core::DvvSet> merged;                    // per key: the merge of all its replicas
  std::map<std::string, std::vector<core::DvvSet>> per_replica;  // per key: each replica's object
  std::vector<ReapedTombstone> reaped;                           // every removal of the run
};

// Each node's state after the faults healed and the handoffs had time, before the calm phase.
struct HealedState {
  std::map<std::string, std::vector<core::DvvSet>> per_node;  // per key: each node's object (empty: none)
  std::vector<uint64_t> pending_hints;                         // per node
  std::vector<ReapedTombstone> reaped;                         // the removals until then
};

// The merged contexts of the tombstones of `key` reaped (on any node) before `before_ms`.
core::VersionVector reaped_context(const std::vector<ReapedTombstone>& reaped, const std::string& key,
                                   uint64_t before_ms = UINT64_MAX);
// What a replica's object amounts to: nothing, if it is a tombstone that a reaping covers.
core::DvvSet unless_reaped(core::DvvSet object, const core::VersionVector& reaped);

// Returns one line per violation, each starting with the invariant's name; empty when all hold.
// With `synced_disks` false (sync=none) acknowledged writes may be lost in crashes, so lost_write
// is not checked; every other invariant is.
std::vector<std::string> check_history(const History& history, const std::vector<StoredWrite>& stored,
                                       const FinalState& final_state, bool synced_disks);

// The handoff invariants on `healed`. missing_replica is checked only with synced disks, and not
// for writes whose coordinator crashed within `settle_ms` after storing them: the coordinator
// hands a write to its silent replicas within its deadline, and a crash before that is a gap only
// anti-entropy closes.
std::vector<std::string> check_healed(const History& history, const std::vector<StoredWrite>& stored,
                                      const HealedState& healed, const core::Ring& ring,
                                      const std::vector<Crash>& crashes, uint64_t settle_ms, bool synced_disks);

}  // namespace md::sim
