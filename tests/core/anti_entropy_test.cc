// The anti-entropy exchange step by step, and its answer to malformed peer messages: ignored,
// with no effect and no state kept.
#include "core/anti_entropy.h"

#include <gtest/gtest.h>

namespace md::core {
namespace {

struct Replicas {
  Ring ring = *Ring::create({"a", "b", "c"}, 16);
  Outbox out{1};
  AntiEntropy node{ring, 0, 3, AntiEntropyOptions{100, 10'000}};

  template <class T>
  std::vector<T> taken() {
    std::vector<T> found;
    for (auto& e : out.take()) {
      if constexpr (std::is_same_v<T, ScanSegments>) {
        if (auto* scan = std::get_if<ScanSegments>(&e)) found.push_back(*scan);
      } else if (auto* send = std::get_if<SendPeer>(&e)) {
        if (auto* m = std::get_if<T>(&send->message)) found.push_back(*m);
      }
    }
    return found;
  }
};

TEST(AntiEntropy, an_exchange_narrows_down_to_the_differing_segment_and_scans_only_it) {
  Replicas r, peer;
  r.node.on_tick(r.out, r.ring, 0, {false, true, true});
  auto trees = r.taken<AaeTree>();
  ASSERT_EQ(trees.size(), 1u);
  peer.node.load(trees[0].partition, "only-the-peer-has-it", "object");
  peer.node.on_tree(peer.out, 0, trees[0]);
  auto segments = peer.taken<AaeSegments>();
  ASSERT_EQ(segments.size(), 1u);
  EXPECT_EQ(segments[0].inner_nodes.size(), 1u);  // one inner node differs
  r.node.on_segments(r.out, 1, segments[0]);
  auto scans = r.taken<ScanSegments>();
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_EQ(scans[0].segments, std::vector<uint32_t>{segment_of("only-the-peer-has-it")});
  EXPECT_EQ(r.node.counters().segments_differing, 1u);
}

TEST(AntiEntropy, equal_trees_end_the_exchange_in_sync) {
  Replicas r, peer;
  r.node.on_tick(r.out, r.ring, 0, {false, true, true});
  auto trees = r.taken<AaeTree>();
  ASSERT_EQ(trees.size(), 1u);
  peer.node.on_tree(peer.out, 0, trees[0]);
  r.node.on_segments(r.out, 1, peer.taken<AaeSegments>().at(0));
  EXPECT_TRUE(r.taken<ScanSegments>().empty());
  EXPECT_EQ(r.node.counters().exchanges_in_sync, 1u);
}

TEST(AntiEntropy, malformed_or_foreign_messages_are_ignored) {
  Replicas r;
  r.node.on_tree(r.out, 1, AaeTree{7, 3, std::vector<uint64_t>(5)});         // wrong shape
  r.node.on_tree(r.out, 1, AaeTree{7, 999, std::vector<uint64_t>(kFanout)});  // no such partition
  r.node.on_keys(r.out, 1, AaeKeys{7, 3, {5, 2}, {}, {}});                    // segments not sorted
  r.node.on_keys(r.out, 1, AaeKeys{7, 3, {2}, {"k"}, {}});                    // a key without its hash
  r.node.on_keys(r.out, 1, AaeKeys{7, 999, {2}, {}, {}});
  r.node.on_pull(r.out, 1, AaePull{999, {"k"}});
  r.node.on_segments(r.out, 1, AaeSegments{7, 3, {0}, std::vector<uint64_t>(kSegmentsPerInner)});  // no such exchange
  EXPECT_TRUE(r.out.take().empty());
  EXPECT_EQ(r.node.tree(999), nullptr);

  r.node.on_tick(r.out, r.ring, 0, {false, true, true});
  auto tree = r.taken<AaeTree>().at(0);
  r.node.on_segments(r.out, 2, AaeSegments{tree.id, tree.partition, {0}, std::vector<uint64_t>(kSegmentsPerInner)});  // wrong peer
  r.node.on_segments(r.out, 1, AaeSegments{tree.id, tree.partition, {0}, std::vector<uint64_t>(3)});  // wrong count
  r.node.on_segments(r.out, 1, AaeSegments{tree.id, tree.partition, {kFanout}, std::vector<uint64_t>(kSegmentsPerInner)});
  EXPECT_TRUE(r.out.take().empty());
}

TEST(AntiEntropy, nothing_is_started_with_every_peer_down_or_when_switched_off) {
  Replicas r;
  r.node.on_tick(r.out, r.ring, 0, {false, false, false});
  EXPECT_TRUE(r.out.take().empty());
  AntiEntropy off(r.ring, 0, 3, AntiEntropyOptions{0, 10'000});
  off.on_tick(r.out, r.ring, 0, {false, true, true});
  EXPECT_TRUE(r.out.take().empty());
}

}  // namespace
}  // namespace md::core
