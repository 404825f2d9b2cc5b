// Leave, remove and replace in simulated clusters, with their partition transfers
// (core/transfers.h): every key ends on the final owners' replicas, written before the change or
// during it, whatever crashes the transfers meet on the way. The figures printed are the ones
// docs/design.md quotes.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <optional>
#include <variant>

#include "sim/cluster.h"

namespace md::sim {
namespace {

// Writes "key<i>" = "v<i>" with W=2 through node `via` and expects it acknowledged.
void write_key(Cluster& cluster, int i, size_t via) {
  core::ClientRequest put;
  put.op = core::Op::put;
  put.key = "key" + std::to_string(i);
  put.value = "\"v" + std::to_string(i) + "\"";
  put.w = 2;
  auto answer = cluster.await(cluster.submit(via, put));
  ASSERT_TRUE(answer && answer->outcome == core::Outcome::ok) << put.key << ": " << (answer ? answer->message : "no answer");
}

// Runs until `done` holds, at most `limit_ms`; true if it did.
bool run_until(Cluster& cluster, const std::function<bool()>& done, uint64_t limit_ms = 60'000) {
  for (uint64_t waited = 0; !done(); waited += 10) {
    if (waited >= limit_ms) return false;
    cluster.run_for(10);
  }
  return true;
}

// Every one of the first `keys` keys is on each of its N=3 replicas under the newest ring, with
// its value: the final owners alone hold every key.
void expect_on_final_owners(Cluster& cluster, int keys) {
  const auto& ring = cluster.ring();
  for (int i = 0; i < keys; ++i) {
    const std::string key = "key" + std::to_string(i);
    for (auto m : ring.preference_list(ring.partition_of_key(key), 3)) {
      auto stored = cluster.stored(m, key);
      ASSERT_TRUE(stored && stored->siblings().size() == 1) << key << " is missing on its replica n" << m;
      EXPECT_EQ(stored->siblings()[0].value, "\"v" + std::to_string(i) + "\"") << key << " on n" << m;
    }
  }
}

uint64_t keys_received(Cluster& cluster) {
  uint64_t total = 0;
  for (size_t i = 0; i < cluster.size(); ++i) total += cluster.is_up(i) ? cluster.node(i).counters().keys_received : 0;
  return total;
}

ClusterOptions five_nodes(uint64_t seed) {
  ClusterOptions options;
  options.nodes = 5;
  options.partitions = 64;
  options.seed = seed;
  options.node.anti_entropy.interval_ms = 0;  // the transfers alone must move the data
  options.network = NetworkFaults{0, 0, 2, 20};
  return options;
}

TEST(Transfer, a_leaver_hands_off_every_key_and_departs_also_with_writes_during_the_transfer) {
  Cluster cluster(five_nodes(3));
  cluster.run_for(3000);
  constexpr int kBefore = 400, kDuring = 100;
  for (int i = 0; i < kBefore; ++i) write_key(cluster, i, static_cast<size_t>(i) % 5);
  ASSERT_TRUE(cluster.request_departure(0, 2, {core::DepartureKind::leave, {}}).is_ok());
  // Writes while the owners change reach the incoming replicas too: they are not lost to them.
  for (int i = kBefore; i < kBefore + kDuring; ++i) write_key(cluster, i, static_cast<size_t>(i) % 5);
  ASSERT_TRUE(run_until(cluster, [&] { return !cluster.changing() && cluster.ring().departed(2); }));
  ASSERT_EQ(cluster.ring().serving(), 4u);
  expect_on_final_owners(cluster, kBefore + kDuring);
  // Keys with a replica list that changed: the ideal is the leaver's share of the copies, N/k of them.
  const double ideal = (kBefore + kDuring) * 3.0 / 5.0;
  std::printf("leave of 1 of 5 nodes: %llu keys transferred for %d keys x 3 copies (ideal %.0f: the leaver's copies)\n",
              static_cast<unsigned long long>(keys_received(cluster)), kBefore + kDuring, ideal);
  EXPECT_LE(static_cast<double>(keys_received(cluster)), 1.5 * ideal) << "far more data moved than the leaver held";
}

TEST(Transfer, a_removed_node_is_rebuilt_from_the_survivors_and_its_hints_reach_the_new_owners) {
  Cluster cluster(five_nodes(4));
  cluster.run_for(3000);
  constexpr int kKeys = 300;
  for (int i = 0; i < kKeys / 2; ++i) write_key(cluster, i, static_cast<size_t>(i) % 5);
  cluster.crash(3);
  cluster.run_for(3000);  // the others see it down: its writes go to stand-ins as hints
  for (int i = kKeys / 2; i < kKeys; ++i) write_key(cluster, i, static_cast<size_t>(i) % 3);
  uint64_t hints = 0;
  for (size_t n : {0, 1, 2, 4}) hints += cluster.node(n).pending_hints()[3];
  ASSERT_GT(hints, 0u);
  ASSERT_TRUE(cluster.request_departure(1, 3, {core::DepartureKind::remove, {}}).is_ok());
  ASSERT_TRUE(run_until(cluster, [&] { return !cluster.changing() && cluster.ring().departed(3); }));
  ASSERT_TRUE(run_until(cluster, [&] {
    for (size_t n : {0, 1, 2, 4}) {
      if (cluster.node(n).pending_hints()[3] != 0) return false;
    }
    return true;
  })) << "hints for the removed node are never delivered";
  cluster.run_for(3000);  // the last deliveries land
  expect_on_final_owners(cluster, kKeys);
  std::printf("remove of 1 of 5 nodes: %llu hints for it went to the new owners\n", static_cast<unsigned long long>(hints));
}

TEST(Transfer, a_replacement_takes_exactly_the_old_nodes_partitions) {
  ClusterOptions options = five_nodes(5);
  options.joiners = 1;
  Cluster cluster(options);
  cluster.run_for(3000);
  constexpr int kKeys = 200;
  for (int i = 0; i < kKeys; ++i) write_key(cluster, i, static_cast<size_t>(i) % 4);
  const auto before = core::ring_of(cluster.node(0).cluster_state());
  cluster.crash(1);
  ASSERT_TRUE(cluster.request_departure(0, 1, {core::DepartureKind::replace, cluster.address(4)}).is_ok());
  cluster.run_for(2000);
  EXPECT_FALSE(cluster.changing()) << "nothing moves before the replacement has joined";
  cluster.join(4, 2);
  ASSERT_TRUE(run_until(cluster, [&] { return cluster.is_member(4) && !cluster.changing() && cluster.ring().departed(1); }));
  for (uint32_t p = 0; p < before.partitions(); ++p) {
    EXPECT_EQ(cluster.ring().owner(p) == 4u, before.owner(p) == 1u) << "partition " << p;
  }
  expect_on_final_owners(cluster, kKeys);
}

// Small batches, and each side of a transfer crashes while it is under way: the transfer goes on
// after its cursor (as recorded in the cluster state) rather than from the start, and ends. When
// the source is down, the claimant hands its transfers to another replica, which goes on after the
// same cursor; if the source comes back first, it does.
TEST(Transfer, a_transfer_resumes_after_either_side_crashes) {
  ClusterOptions options = five_nodes(6);
  options.partitions = 8;
  options.node.transfers.batch_keys = 5;
  options.node.transfers.publish_ms = 50;
  Cluster cluster(options);
  cluster.run_for(3000);
  constexpr int kKeys = 600;
  for (int i = 0; i < kKeys; ++i) write_key(cluster, i, static_cast<size_t>(i) % 5);
  ASSERT_TRUE(cluster.request_departure(0, 4, {core::DepartureKind::leave, {}}).is_ok());
  // A transfer under way, as `node` knows its progress.
  auto under_way = [&](size_t node) -> std::optional<core::Transfer> {
    if (!cluster.is_up(node)) return std::nullopt;
    for (const auto& t : cluster.node(node).cluster_state().transfers) {
      if (!t.done && t.keys > 0) return t;
    }
    return std::nullopt;
  };
  ASSERT_TRUE(run_until(cluster, [&] { return under_way(4).has_value(); }));
  const size_t receiver = under_way(4)->to;
  cluster.crash(receiver);
  cluster.run_for(1500);
  cluster.restart(receiver);
  // Once the claimant knows a transfer's progress (it plans from what it knows), the source dies.
  const size_t claimant = core::claimant(cluster.node(0).cluster_state());
  ASSERT_TRUE(run_until(cluster, [&] {
    auto t = under_way(claimant);
    return t && t->from == 4;
  }));
  const core::Transfer kept = *under_way(claimant);
  std::optional<std::string> resumed_at;  // the first key sent of that partition to that receiver from now on
  cluster.observe_sends([&](size_t, core::MemberIndex to, const core::PeerMessage& message) {
    const auto* batch = std::get_if<core::TransferBatch>(&message);
    if (to == kept.to && batch && batch->partition == kept.partition && !resumed_at && !batch->keys.empty()) {
      resumed_at = batch->keys.front();
    }
  });
  cluster.crash(4);  // the source: the leaver itself
  cluster.run_for(1500);
  cluster.restart(4);
  ASSERT_TRUE(run_until(cluster, [&] { return !cluster.changing() && cluster.ring().departed(4); }));
  expect_on_final_owners(cluster, kKeys);
  ASSERT_TRUE(resumed_at.has_value());
  EXPECT_GT(*resumed_at, kept.cursor) << "the transfer started again from its first key, not after its cursor";
}

}  // namespace
}  // namespace md::sim
