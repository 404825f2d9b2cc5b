#include "core/merkle_tree.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <string>

namespace md::core {
namespace {

// The tree a node would rebuild on start from what its engine holds.
MerkleTree rebuilt(const std::map<std::string, std::string>& stored) {
  MerkleTree tree;
  for (const auto& [key, object] : stored) tree.update(key, 0, object_hash(object));
  return tree;
}

void expect_equal_trees(const MerkleTree& a, const MerkleTree& b) {
  EXPECT_EQ(a.root(), b.root());
  EXPECT_EQ(a.inner(), b.inner());
  for (uint32_t i = 0; i < kFanout; ++i) {
    auto sa = a.segments_of(i), sb = b.segments_of(i);
    EXPECT_TRUE(std::equal(sa.begin(), sa.end(), sb.begin(), sb.end())) << "inner node " << i;
  }
}

// A random history of writes and deletes over a few keys, applied incrementally as the node does
// (from the object each write replaced), ends in the tree a rebuild from the final state gives.
RC_GTEST_PROP(MerkleTree, incremental_updates_equal_a_rebuild, ()) {
  const auto steps = *rc::gen::container<std::vector<std::pair<int, int>>>(
      rc::gen::pair(rc::gen::inRange(0, 20), rc::gen::inRange(-1, 5)));  // (key, value; -1 deletes)
  std::map<std::string, std::string> stored;
  MerkleTree incremental;
  for (auto [k, v] : steps) {
    const std::string key = "k" + std::to_string(k);
    auto it = stored.find(key);
    const uint64_t before = it == stored.end() ? 0 : object_hash(it->second);
    uint64_t after = 0;
    if (v < 0) {
      stored.erase(key);
    } else {
      stored[key] = "object" + std::to_string(v);
      after = object_hash(stored[key]);
    }
    incremental.update(key, before, after);
  }
  expect_equal_trees(incremental, rebuilt(stored));
}

// Two replicas that got the same writes in different orders hold the same tree.
RC_GTEST_PROP(MerkleTree, the_order_of_loading_does_not_matter, ()) {
  auto keys = *rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 1000));
  MerkleTree forward, backward;
  for (int k : keys) forward.update("k" + std::to_string(k), 0, object_hash("v" + std::to_string(k)));
  std::reverse(keys.begin(), keys.end());
  for (int k : keys) backward.update("k" + std::to_string(k), 0, object_hash("v" + std::to_string(k)));
  expect_equal_trees(forward, backward);
}

TEST(MerkleTree, a_changed_object_shows_in_its_segment_only) {
  MerkleTree a, b;
  for (int k = 0; k < 500; ++k) {
    const std::string key = "k" + std::to_string(k);
    a.update(key, 0, object_hash("v"));
    b.update(key, 0, object_hash("v"));
  }
  b.update("k7", object_hash("v"), object_hash("w"));
  EXPECT_NE(a.root(), b.root());
  const uint32_t segment = segment_of("k7");
  for (uint32_t i = 0; i < kFanout; ++i) {
    EXPECT_EQ(a.inner()[i] != b.inner()[i], i == segment / kSegmentsPerInner) << i;
    for (uint32_t s = 0; s < kSegmentsPerInner; ++s) {
      EXPECT_EQ(a.segments_of(i)[s] != b.segments_of(i)[s], i * kSegmentsPerInner + s == segment);
    }
  }
}

TEST(MerkleTree, an_absent_key_and_a_deleted_key_look_the_same) {
  MerkleTree tree;
  tree.update("k", 0, object_hash("v"));
  tree.update("k", object_hash("v"), 0);
  expect_equal_trees(tree, MerkleTree());
  EXPECT_NE(object_hash(""), 0u);  // 0 is reserved for "absent"
}

}  // namespace
}  // namespace md::core
