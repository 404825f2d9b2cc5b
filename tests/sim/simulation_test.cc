// The simulator itself: determinism, and a checker that bites when the protocol is broken.
#include "sim/simulation.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace md::sim {
namespace {

TEST(Simulation, the_same_seed_replays_the_identical_trace) {
  SimOptions options;
  options.seed = 42;
  options.trace = true;
  auto first = run_simulation(options);
  auto second = run_simulation(options);
  EXPECT_EQ(first.trace_hash, second.trace_hash);
  EXPECT_EQ(first.trace, second.trace);
  EXPECT_GT(first.faults_injected, 0u);
  options.seed = 43;
  EXPECT_NE(run_simulation(options).trace_hash, first.trace_hash);
}

TEST(Simulation, runs_exercise_faults_conflicts_and_failures) {
  size_t conflicts = 0, unavailable = 0, acknowledged = 0, delivered = 0, handoff_crashes = 0, aae_crashes = 0,
         long_partitions = 0, suspicions = 0, reaped = 0, disk_faults = 0, disk_failures = 0;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SimOptions options;
    options.seed = seed;
    auto result = run_simulation(options);
    EXPECT_TRUE(result.ok()) << replay_command(options);
    conflicts += result.conflicts_seen;
    unavailable += result.unavailable;
    acknowledged += result.acknowledged_writes;
    delivered += result.hints_delivered;
    handoff_crashes += result.handoff_crashes;
    aae_crashes += result.aae_crashes;
    long_partitions += result.long_partitions;
    suspicions += result.suspicions;
    reaped += result.tombstones_reaped;
    disk_faults += result.disk_faults;
    disk_failures += result.disk_failures;
  }
  // A workload that never conflicts, never fails or never hands off would check nothing.
  EXPECT_GT(conflicts, 20u);
  EXPECT_GT(unavailable, 20u);
  EXPECT_GT(acknowledged, 200u);
  EXPECT_GT(delivered, 20u);
  EXPECT_GT(handoff_crashes, 20u);
  EXPECT_GT(aae_crashes, 20u);
  EXPECT_GT(long_partitions, 5u);
  EXPECT_GT(suspicions, 0u);  // long partitions outlast the failure detector
  EXPECT_GT(reaped, 20u);     // deleted keys are reaped, and some are written again afterwards
  EXPECT_GT(disk_faults, 20u);   // disks fail reads, writes, fsyncs and removals, or fill up...
  EXPECT_GT(disk_failures, 50u);  // ...and the nodes' storage operations fail for it
}

// How many of `seeds` consecutive seeds from `options.seed` report a violation starting with
// `kind` ("" for any): a mutation test counts the seeds that catch its broken protocol.
size_t seeds_caught(SimOptions options, size_t seeds, const std::string& kind) {
  size_t caught = 0;
  for (size_t i = 0; i < seeds; ++i, ++options.seed) {
    auto violations = run_simulation(options).violations;
    caught += std::any_of(violations.begin(), violations.end(), [&](const std::string& v) { return v.starts_with(kind); });
  }
  return caught;
}

TEST(Simulation, the_checker_catches_hints_that_are_never_kept_within_ten_seeds) {
  SimOptions options;
  options.buggy_handoff = true;
  options.anti_entropy = false;  // which would repair the replicas that hints failed
  EXPECT_GE(seeds_caught(options, 10, "missing_replica"), 1u);
}

TEST(Simulation, the_checker_catches_a_merge_that_drops_a_sibling_within_ten_seeds) {
  SimOptions options;
  options.buggy_merge = true;
  EXPECT_GE(seeds_caught(options, 10, ""), 1u);
}

// Read repair happens only on reads; after healing, no read comes before the convergence check, so
// without anti-entropy replicas that missed writes must be caught still differing.
TEST(Simulation, without_anti_entropy_replicas_that_missed_writes_are_caught) {
  SimOptions options;
  options.anti_entropy = false;
  EXPECT_GE(seeds_caught(options, 10, "not_converged_by_anti_entropy"), 5u);
}

// Without synced disks a crash loses writes the node coordinated; keeping its actor id it would
// make their dots again for other writes, which replicas cannot tell apart (Riak's kv679).
TEST(Simulation, the_checker_catches_dots_made_twice_after_a_crash) {
  SimOptions options;
  options.seed = 100001;
  options.sync = DiskSync::none;
  options.buggy_actor_epochs = true;
  EXPECT_GE(seeds_caught(options, 30, "reused_dot"), 5u);  // 13 of these 30 seeds
}

// A node that drops a tombstone as soon as it stores it, without asking the other members or
// waiting for the grace period: older copies elsewhere bring the deleted values back.
TEST(Simulation, the_checker_catches_tombstones_reaped_without_asking_within_ten_seeds) {
  SimOptions options;
  options.buggy_reaping = true;
  EXPECT_GE(seeds_caught(options, 10, "resurrected_after_reap"), 5u);  // all 10
}

// Without the dot floor, a key written again after reaping is numbered from its empty object and
// reuses the dots of the writes the tombstone deleted.
TEST(Simulation, the_checker_catches_dots_reused_after_reaping_within_ten_seeds) {
  SimOptions options;
  options.buggy_dot_floor = true;
  EXPECT_GE(seeds_caught(options, 10, "reused_dot"), 2u);  // 7 of 10 (minidynamo sim --seeds 10 --buggy-dot-floor)
}

TEST(Simulation, the_checker_catches_nodes_that_share_an_id_within_ten_seeds) {
  SimOptions options;
  options.buggy_ids = true;
  EXPECT_GE(seeds_caught(options, 10, "reused_dot"), 5u);
}

// A group committer that completes a batch before its fsync: a crash loses acknowledged writes.
TEST(Simulation, the_checker_catches_writes_acknowledged_before_their_fsync_within_twenty_seeds) {
  SimOptions options;
  options.buggy_early_ack = true;
  EXPECT_GE(seeds_caught(options, 20, "lost_write"), 3u);  // 5 of 20 (minidynamo sim --seeds 20 --buggy-early-ack)
}

// With synced disks too: a coordinator sends its write to the replicas while it syncs its own
// copy, so a crash may lose a dot the replicas hold; keeping its actor id, the node makes it again.
TEST(Simulation, the_checker_catches_dots_made_twice_after_a_crash_with_synced_disks_within_ten_seeds) {
  SimOptions options;
  options.buggy_actor_epochs = true;
  EXPECT_GE(seeds_caught(options, 10, "reused_dot"), 5u);  // 7 of 10 (minidynamo sim --seeds 10 --buggy-actor-epochs)
}

// A hint the coordinator keeps beside its own replica counted toward W: two machines reported as three.
TEST(Simulation, the_checker_catches_a_w_that_counts_colocated_hints_within_ten_seeds) {
  SimOptions options;
  options.buggy_colocated_hints = true;
  options.nodes = 3;  // no node outside a key's preference list can stand in
  EXPECT_GE(seeds_caught(options, 10, "thin_ack"), 5u);  // 10 of 10
}

TEST(Simulation, clusters_of_up_to_64_nodes_run_and_hold) {
  for (size_t nodes : {3u, 16u, 64u}) {
    SimOptions options;
    options.seed = 7;
    options.nodes = nodes;
    options.steps = 100;
    auto result = run_simulation(options);
    EXPECT_TRUE(result.ok()) << replay_command(options);
    EXPECT_EQ(result.nodes, nodes);
  }
}

TEST(Faults, parse_and_print) {
  EXPECT_EQ(faults_to_string(*parse_faults("all")),
            "loss,duplicate,delay,partition,crash,slow,handoff,aae,long_partition,join,disk,leave,remove,replace");
  EXPECT_EQ(faults_to_string(*parse_faults("replace,leave")), "leave,replace");
  EXPECT_EQ(faults_to_string(*parse_faults("none")), "none");
  EXPECT_EQ(faults_to_string(*parse_faults("crash,loss")), "loss,crash");
  EXPECT_EQ(faults_to_string(*parse_faults("long_partition,aae")), "aae,long_partition");
  EXPECT_FALSE(parse_faults("lightning").is_ok());
}

}  // namespace
}  // namespace md::sim
