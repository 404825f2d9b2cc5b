// One simulated run: a cluster under a random fault schedule and a random client workload, all
// drawn from one seed, then healed, read back with R=N and checked (checker.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "sim/cluster.h"

namespace md::sim {

struct FaultSet {
  bool loss = true, duplicate = true, delay = true, partition = true, crash = true, slow = true;
  bool handoff = true;  // crash a hint's holder or owner while the hint is being delivered
  bool aae = true;      // crash one side of an anti-entropy exchange while it is under way
  bool long_partition = true;  // a partition that holds for seconds, outlasting the failure detector
  bool join = true;     // (4 nodes or more) the last node joins during the run, through gossip
  bool disk = true;     // a node's disk fails reads, writes, fsyncs or removals now and then, or fills up
  // (4 nodes or more; a seed takes at most one change of membership, a join included) a member
  // leaves, handing its partitions off; a member is killed and removed, the survivors rebuilding
  // its partitions; a member is killed and replaced by a new node that joins for it.
  bool leave = true, remove = true, replace = true;
};
// "all", "none", or a comma-separated list of loss, duplicate, delay, partition, crash, slow,
// handoff, aae, long_partition, join, disk, leave, remove, replace.
Result<FaultSet> parse_faults(const std::string& text);
std::string faults_to_string(const FaultSet& faults);

struct SimOptions {
  uint64_t seed = 1;
  size_t nodes = 0;      // 0: the seed picks 3 to 5
  size_t steps = 200;    // client operations during the fault phase (a quarter more after healing)
  size_t clients = 4;
  size_t keys = 4;       // a small hot set, so conflicts really happen
  FaultSet faults;
  DiskSync sync = DiskSync::always;
  bool trace = false;
  bool buggy_merge = false;  // mutation test: replicas' merges drop a sibling
  bool buggy_handoff = false;  // mutation test: hints are acknowledged but never kept
  bool buggy_actor_epochs = false;  // mutation test: after a crash lost writes, dots are made again
  bool buggy_reaping = false;  // mutation test: a tombstone is removed as soon as it is stored, asking no one
  bool buggy_dot_floor = false;  // mutation test: dots are numbered from the object alone after reaping
  bool buggy_ids = false;  // mutation test: every node makes its dots under one shared id
  bool buggy_early_ack = false;  // mutation test: synced batches are acknowledged before their fsync
  bool buggy_colocated_hints = false;  // mutation test: a hint kept beside a replica counts toward W
  bool anti_entropy = true;  // off only to show that the convergence-without-reads check bites
};

struct SimResult {
  std::vector<std::string> violations;
  uint64_t trace_hash = 0;
  std::string trace;  // only with SimOptions::trace
  size_t nodes = 0;
  size_t operations = 0, acknowledged_writes = 0, unavailable = 0, conflicts_seen = 0, faults_injected = 0;
  size_t hints_delivered = 0, handoff_crashes = 0, aae_crashes = 0, long_partitions = 0, joins = 0;
  size_t leaves = 0, removes = 0, replaces = 0;  // departures asked for (and completed: else a violation)
  size_t tombstones_reaped = 0;  // removals, on all nodes
  size_t disk_faults = 0;        // times a node's disk began to misbehave (or filled up)
  size_t disk_failures = 0;      // storage operations that failed
  uint64_t suspicions = 0;  // times a node's failure detector suspected a peer
  uint64_t virtual_ms = 0;
  bool ok() const { return violations.empty(); }
};

SimResult run_simulation(const SimOptions& options);

// The command line that replays `options` exactly.
std::string replay_command(const SimOptions& options);

}  // namespace md::sim
