// The failure detector in simulated clusters: silent failures are noticed, delay alone is not
// taken for failure. The numbers these tests print are the ones docs/design.md quotes.
#include <gtest/gtest.h>

#include <cstdio>

#include "sim/cluster.h"

namespace md::sim {
namespace {

uint64_t suspicions(Cluster& cluster) {
  uint64_t total = 0;
  for (size_t i = 0; i < cluster.size(); ++i) total += cluster.node(i).counters().suspicions;
  return total;
}

// The simulator's worst delay schedule: a 20 ms typical one-way delay with a long tail to 1 s.
ClusterOptions delayed(size_t nodes, uint64_t seed) {
  ClusterOptions options;
  options.nodes = nodes;
  options.seed = seed;
  options.network = NetworkFaults{0, 0, 20, 1000};
  return options;
}

TEST(FailureDetection, long_tailed_delay_alone_raises_no_suspicion_in_a_simulated_hour) {
  constexpr uint64_t kHourMs = 3'600'000;
  uint64_t total = 0;
  for (uint64_t seed : {1, 2, 3}) {
    Cluster cluster(delayed(5, seed));
    cluster.run_for(kHourMs);
    total += suspicions(cluster);
  }
  std::printf("false suspicions: %llu in 3 simulated hours of 5 nodes (20 pairs each)\n",
              static_cast<unsigned long long>(total));
  EXPECT_EQ(total, 0u);
}

TEST(FailureDetection, a_silently_partitioned_node_becomes_suspect_and_recovers_after_healing) {
  Cluster cluster(delayed(5, 7));
  cluster.run_for(30'000);  // the detectors learn the intervals
  ASSERT_EQ(suspicions(cluster), 0u);
  cluster.partition({1, 0, 0, 0, 0});  // no connection drops: only heartbeats stop arriving
  uint64_t detected_ms = 0;
  while (detected_ms < 10'000 && cluster.node(1).peer_status(0) != core::PeerStatus::suspect) {
    cluster.run_for(10);
    detected_ms += 10;
  }
  std::printf("silent partition detected after %llu ms\n", static_cast<unsigned long long>(detected_ms));
  EXPECT_LT(detected_ms, 5000u);
  cluster.run_for(5000);
  for (size_t i = 1; i < 5; ++i) {
    EXPECT_EQ(cluster.node(i).peer_status(0), core::PeerStatus::suspect) << i;
    EXPECT_EQ(cluster.node(0).peer_status(i), core::PeerStatus::suspect) << i;
    EXPECT_EQ(cluster.node(i).peer_status(2 - (i == 2)), core::PeerStatus::up) << i;  // the majority side is fine
  }
  cluster.heal();
  cluster.run_for(2000);
  for (size_t i = 0; i < 5; ++i) {
    for (size_t j = 0; j < 5; ++j) EXPECT_TRUE(cluster.node(i).peer_up(static_cast<core::MemberIndex>(j))) << i << "->" << j;
  }
}

TEST(FailureDetection, a_crashed_node_is_down_not_suspect_and_up_again_after_restart) {
  Cluster cluster(delayed(3, 9));
  cluster.run_for(5000);
  cluster.crash(2);
  cluster.run_for(3000);
  EXPECT_EQ(cluster.node(0).peer_status(2), core::PeerStatus::down);
  cluster.restart(2);
  cluster.run_for(3000);
  EXPECT_EQ(cluster.node(0).peer_status(2), core::PeerStatus::up);
  EXPECT_EQ(cluster.node(2).peer_status(0), core::PeerStatus::up);
  EXPECT_EQ(suspicions(cluster), 0u);
}

}  // namespace
}  // namespace md::sim
