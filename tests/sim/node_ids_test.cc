// Two nodes under one id, in a simulated cluster: the defence in depth behind the membership's
// refusal of duplicate ids (docs/design.md, "Node ids"). Writes acknowledged on both sides of a
// partition under the same dot must both survive, and anti-entropy alone must converge them.
#include <gtest/gtest.h>

#include <set>

#include "sim/cluster.h"

namespace md::sim {
namespace {

std::multiset<std::string> values(const core::DvvSet& object) {
  std::multiset<std::string> out;
  for (const auto& s : object.siblings()) out.insert(s.value);
  return out;
}

TEST(NodeIds, writes_made_under_one_dot_on_both_sides_of_a_partition_are_kept_and_converge_without_reads) {
  ClusterOptions options;
  options.nodes = 3;
  options.partitions = 16;
  options.node.anti_entropy.interval_ms = 50;
  options.buggy_ids = true;  // every node makes its dots under one id, as three hosts defaulting to node_5001 did
  Cluster cluster(options);
  cluster.run_for(1'000);

  cluster.partition({0, 1, 1});
  auto side1 = cluster.submit(0, {core::Op::put, "k", "\"side-1\"", std::nullopt, 3, {}, 1});
  auto side2 = cluster.submit(1, {core::Op::put, "k", "\"side-2\"", std::nullopt, 3, {}, 1});
  for (uint64_t h : {side1, side2}) {
    auto answer = cluster.await(h);
    ASSERT_TRUE(answer && answer->outcome == core::Outcome::ok);
  }
  ASSERT_EQ(cluster.stored(0, "k")->siblings()[0].dot, cluster.stored(1, "k")->siblings()[0].dot)
      << "the two writes were meant to share a dot";

  cluster.heal();
  cluster.run_for(20'000);  // no client reads: handoff and anti-entropy only
  const std::multiset<std::string> both = {"\"side-1\"", "\"side-2\""};
  for (size_t n = 0; n < 3; ++n) {
    auto object = cluster.stored(n, "k");
    ASSERT_TRUE(object) << "node " << n;
    EXPECT_EQ(values(*object), both) << "node " << n << " lost an acknowledged write";
    EXPECT_EQ(object->dot_collisions(), 2u) << "node " << n;
  }
  EXPECT_GT(cluster.dot_collisions(), 0u);
}

}  // namespace
}  // namespace md::sim
