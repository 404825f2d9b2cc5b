// The actor id a node makes dots under, safe across crashes that lose recent writes.
//
// A coordinator numbers its writes' dots from the counter its own stored object holds. If a crash
// loses writes it already sent to replicas, the counter comes back lower and the node would make
// the same dot again for a different write; replicas would take the two writes for one and
// silently lose one of them (Riak's kv679). Any crash may do that: with --sync interval or none
// (or the memory engine) it loses acknowledged writes, and with --sync always it loses those the
// coordinator sent to the replicas while it was still syncing its own copy
// (core/write_coordinator.h). So a node writes under an actor id with an epoch: its node id in
// epoch 0, "<node id>~<n>" in epoch n, and it begins a new epoch at every start after a crash or
// with an engine that kept nothing. A new actor has never made a dot, so its counters start afresh.
//
// These are the rules; the host keeps the epoch and tells a crash from a clean stop
// (runtime/actor_epoch.h keeps them in the data dir, the simulator on its virtual disk).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace md::core {

// What the host knows about the previous run when a node starts.
struct PreviousRun {
  std::optional<uint32_t> epoch;  // the epoch it ran in; nullopt: the node never ran
  bool crashed = false;           // it did not stop cleanly
};

// The epoch to run in: the previous one, unless that run may have lost writes it sent out (it
// crashed, or its engine keeps nothing: `state_survives_restarts` false): then the next.
uint32_t next_epoch(const PreviousRun& previous, bool state_survives_restarts);

// The id to make dots under in `epoch`: the node id in epoch 0, else "<node id>~<epoch>".
std::string actor_id(const std::string& node_id, uint32_t epoch);

}  // namespace md::core
