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
         long_partitions = 0, suspicions = 0;
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
}

TEST(Simulation, the_checker_catches_hints_that_are_never_kept_within_ten_seeds) {
  size_t caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.buggy_handoff = true;
    options.anti_entropy = false;  // which would repair the replicas that hints failed
    for (const auto& v : run_simulation(options).violations) {
      if (v.starts_with("missing_replica")) {
        ++caught;
        break;
      }
    }
  }
  EXPECT_GE(caught, 1u);
}

TEST(Simulation, the_checker_catches_a_merge_that_drops_a_sibling_within_ten_seeds) {
  size_t caught = 0;
  uint64_t first_caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.buggy_merge = true;
    auto result = run_simulation(options);
    if (!result.ok()) {
      ++caught;
      if (first_caught == 0) first_caught = seed;
    }
  }
  EXPECT_GE(caught, 1u);
  EXPECT_LE(first_caught, 10u);
}

// Read repair happens only on reads; after healing, no read comes before the convergence check, so
// without anti-entropy replicas that missed writes must be caught still differing.
TEST(Simulation, without_anti_entropy_replicas_that_missed_writes_are_caught) {
  size_t caught = 0;
  for (uint64_t seed = 1; seed <= 10; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.anti_entropy = false;
    auto result = run_simulation(options);
    caught += std::any_of(result.violations.begin(), result.violations.end(), [](const std::string& v) {
      return v.starts_with("not_converged_by_anti_entropy");
    });
  }
  EXPECT_GE(caught, 5u);
}

// Without synced disks a crash loses writes the node coordinated; keeping its actor id it would
// make their dots again for other writes, which replicas cannot tell apart (Riak's kv679).
TEST(Simulation, the_checker_catches_dots_made_twice_after_a_crash) {
  size_t caught = 0;
  for (uint64_t seed = 100001; seed <= 100100; ++seed) {
    SimOptions options;
    options.seed = seed;
    options.sync = DiskSync::none;
    options.buggy_actor_epochs = true;
    caught += !run_simulation(options).ok();
  }
  EXPECT_GE(caught, 1u);
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
  EXPECT_EQ(faults_to_string(*parse_faults("all")), "loss,duplicate,delay,partition,crash,slow,handoff,aae,long_partition");
  EXPECT_EQ(faults_to_string(*parse_faults("none")), "none");
  EXPECT_EQ(faults_to_string(*parse_faults("crash,loss")), "loss,crash");
  EXPECT_EQ(faults_to_string(*parse_faults("long_partition,aae")), "aae,long_partition");
  EXPECT_FALSE(parse_faults("lightning").is_ok());
}

}  // namespace
}  // namespace md::sim
