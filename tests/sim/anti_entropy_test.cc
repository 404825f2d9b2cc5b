// Anti-entropy in a simulated cluster: a replica that lost keys gets them back from its peers with
// no client read, and the exchange costs a small fraction of the data. The figures this test
// prints are the ones docs/design.md quotes.
#include <gtest/gtest.h>

#include <cstdio>
#include <algorithm>
#include <map>

#include "net/peer_codec.h"
#include "sim/cluster.h"

namespace md::sim {
namespace {

constexpr size_t kKeys = 100'000;
constexpr size_t kLostEvery = 100;  // 1% of the keys

std::string key(size_t i) { return "key" + std::to_string(i); }

// Writes every key with N=3, W=3 (all replicas hold it), a 100-byte JSON value each.
void load(Cluster& cluster, size_t keys, size_t& raw_bytes) {
  constexpr size_t kInFlight = 500;
  for (size_t first = 0; first < keys; first += kInFlight) {
    std::vector<uint64_t> handles;
    for (size_t i = first; i < std::min(keys, first + kInFlight); ++i) {
      std::string value = "\"";
      for (int c = 0; c < 98; ++c) value += static_cast<char>('a' + cluster.rng().below(26));
      value += "\"";
      raw_bytes += key(i).size() + value.size();
      handles.push_back(cluster.submit(i % cluster.size(), {core::Op::put, key(i), value, std::nullopt, 3, {}, 3}));
    }
    for (uint64_t h : handles) {
      auto answer = cluster.await(h);
      ASSERT_TRUE(answer && answer->outcome == core::Outcome::ok);
    }
  }
}

TEST(AntiEntropy, a_replica_that_lost_one_percent_of_100k_keys_is_repaired_without_reads) {
  ClusterOptions options;
  options.nodes = 3;
  options.partitions = 64;
  options.node.anti_entropy.interval_ms = 100;
  Cluster cluster(options);
  size_t raw_bytes = 0;
  load(cluster, kKeys, raw_bytes);

  cluster.crash(2);
  for (size_t i = 0; i < kKeys; i += kLostEvery) cluster.erase_from_disk(2, key(i));
  cluster.restart(2);  // its trees are rebuilt from what its disk holds

  std::map<std::string, size_t> bytes_by_kind;
  size_t objects_sent = 0;
  cluster.observe_sends([&](size_t, core::MemberIndex, const core::PeerMessage& m) {
    if (std::holds_alternative<core::Heartbeat>(m) || std::holds_alternative<core::Hello>(m)) return;
    const bool object = std::holds_alternative<core::ReplicaWrite>(m);
    bytes_by_kind[object ? "objects" : "trees, segments and keys"] += net::encode_peer_message(m).size();
    objects_sent += object;
  });
  auto missing = [&] {
    size_t n = 0;
    for (size_t i = 0; i < kKeys; i += kLostEvery) n += !cluster.stored(2, key(i));
    return n;
  };
  uint64_t waited_ms = 0;
  while (missing() > 0 && waited_ms < 120'000) {
    cluster.run_for(1000);
    waited_ms += 1000;
  }
  ASSERT_EQ(missing(), 0u) << "not repaired after " << waited_ms << " ms";
  for (size_t i = 0; i < kKeys; i += kLostEvery) EXPECT_EQ(cluster.stored(2, key(i)), cluster.stored(0, key(i)));

  const size_t exchanged = bytes_by_kind["objects"] + bytes_by_kind["trees, segments and keys"];
  std::printf("repaired %zu lost keys of %zu in %llu ms (virtual); exchanged %zu bytes (%zu in %zu objects, %zu "
              "in trees, segments and key lists) against %zu bytes of keys and values per replica: %.2f%%\n",
              kKeys / kLostEvery, kKeys, static_cast<unsigned long long>(waited_ms), exchanged,
              bytes_by_kind["objects"], objects_sent, bytes_by_kind["trees, segments and keys"], raw_bytes,
              100.0 * static_cast<double>(exchanged) / static_cast<double>(raw_bytes));
  EXPECT_LT(exchanged, raw_bytes / 20);  // far from shipping the data: under 5%

  // Once repaired, exchanges find the trees equal: no segment differs any more.
  uint64_t differing = 0;
  for (size_t i = 0; i < 3; ++i) differing += cluster.node(i).anti_entropy().counters().segments_differing;
  cluster.run_for(20'000);
  uint64_t later = 0, in_sync = 0;
  for (size_t i = 0; i < 3; ++i) {
    later += cluster.node(i).anti_entropy().counters().segments_differing;
    in_sync += cluster.node(i).anti_entropy().counters().exchanges_in_sync;
  }
  EXPECT_EQ(later, differing);
  EXPECT_GT(in_sync, 0u);
}

// A replica that missed writes while partitioned away gets them, and siblings made on both sides
// of the partition end up on every replica, all without a read.
TEST(AntiEntropy, writes_missed_in_a_partition_reach_the_replica_without_reads) {
  ClusterOptions options;
  options.nodes = 3;
  options.partitions = 16;
  options.node.anti_entropy.interval_ms = 50;
  Cluster cluster(options);
  cluster.partition({0, 0, 1});
  std::vector<uint64_t> handles;
  for (size_t i = 0; i < 50; ++i) {
    handles.push_back(cluster.submit(0, {core::Op::put, key(i), "\"majority\"", std::nullopt, 3, {}, 2}));
  }
  handles.push_back(cluster.submit(2, {core::Op::put, key(0), "\"minority\"", std::nullopt, 3, {}, 1}));
  for (uint64_t h : handles) {
    auto answer = cluster.await(h);
    ASSERT_TRUE(answer && answer->outcome == core::Outcome::ok);
  }
  cluster.heal();
  cluster.run_for(10'000);
  for (size_t i = 0; i < 50; ++i) {
    auto expected = cluster.stored(0, key(i));
    ASSERT_TRUE(expected);
    EXPECT_EQ(cluster.stored(1, key(i)), expected) << key(i);
    EXPECT_EQ(cluster.stored(2, key(i)), expected) << key(i);
  }
  EXPECT_EQ(cluster.stored(2, key(0))->siblings().size(), 2u);  // both sides' writes, as siblings
}

}  // namespace
}  // namespace md::sim
