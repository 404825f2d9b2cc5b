#include "core/dvv_set.h"

#include "core/object_codec.h"
#include "core/replica.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>

namespace md::core {
namespace {

const std::vector<std::string> kNodes = {"node_a", "node_b", "node_c"};

// One step of a random history over three replicas.
struct Step {
  int kind = 0;    // 0: write with the context of a read of replica `from`; 1: blind write; 2: delete; 3: sync from -> to
  int node = 0;    // the coordinator (and the replica that stores the write)
  int from = 0;
};

// Replays a history and records every write's dot and the context it was made with.
struct History {
  std::vector<DvvSet> replicas = std::vector<DvvSet>(3);
  std::vector<Dot> writes;
  std::vector<VersionVector> contexts;
  int next_value = 0;

  void apply(const Step& s) {
    auto& target = replicas[static_cast<size_t>(s.node)];
    if (s.kind == 3) {
      replicas[static_cast<size_t>(s.from)].merge(target);
      return;
    }
    VersionVector ctx = s.kind == 1 ? VersionVector() : replicas[static_cast<size_t>(s.from)].context();
    // A coordinator stores the write on its own replica; writing through it with a context read
    // elsewhere is exactly what clients do.
    contexts.push_back(ctx);
    writes.push_back(target.update(ctx, kNodes[static_cast<size_t>(s.node)], s.kind == 2,
                                   "\"v" + std::to_string(next_value++) + "\""));
  }

  DvvSet converged() const {
    DvvSet all;
    for (const auto& r : replicas) all.merge(r);
    return all;
  }
};

rc::Gen<Step> gen_step() {
  return rc::gen::build<Step>(rc::gen::set(&Step::kind, rc::gen::inRange(0, 4)),
                              rc::gen::set(&Step::node, rc::gen::inRange(0, 3)),
                              rc::gen::set(&Step::from, rc::gen::inRange(0, 3)));
}

DvvSet random_object() {
  History h;
  const auto count = *rc::gen::inRange<size_t>(0, 12);
  for (const auto& s : *rc::gen::container<std::vector<Step>>(count, gen_step())) h.apply(s);
  return h.replicas[static_cast<size_t>(*rc::gen::inRange(0, 3))];
}

RC_GTEST_PROP(DvvSet, merge_is_commutative, ()) {
  History h;
  for (const auto& s : *rc::gen::container<std::vector<Step>>(gen_step())) h.apply(s);
  DvvSet ab = h.replicas[0], ba = h.replicas[1];
  ab.merge(h.replicas[1]);
  ba.merge(h.replicas[0]);
  RC_ASSERT(ab == ba);
}

RC_GTEST_PROP(DvvSet, merge_is_associative, ()) {
  History h;
  for (const auto& s : *rc::gen::container<std::vector<Step>>(gen_step())) h.apply(s);
  DvvSet left = h.replicas[0], bc = h.replicas[1];
  left.merge(h.replicas[1]);
  left.merge(h.replicas[2]);
  bc.merge(h.replicas[2]);
  DvvSet right = h.replicas[0];
  right.merge(bc);
  RC_ASSERT(left == right);
}

RC_GTEST_PROP(DvvSet, merge_is_idempotent, ()) {
  DvvSet a = random_object();
  DvvSet aa = a;
  aa.merge(a);
  RC_ASSERT(aa == a);
}

RC_GTEST_PROP(DvvSet, concurrent_writes_are_never_lost, ()) {
  History h;
  for (const auto& s : *rc::gen::container<std::vector<Step>>(gen_step())) h.apply(s);
  DvvSet all = h.converged();
  std::set<Dot> present;
  for (const auto& s : all.siblings()) present.insert(s.dot);
  for (size_t i = 0; i < h.writes.size(); ++i) {
    bool superseded = false;
    for (size_t j = i + 1; j < h.writes.size(); ++j) superseded = superseded || h.contexts[j].covers(h.writes[i]);
    // A write no later write has seen must survive as a sibling; one that was seen must be gone.
    RC_ASSERT(present.count(h.writes[i]) == (superseded ? 0u : 1u));
  }
}

RC_GTEST_PROP(DvvSet, a_write_that_saw_every_sibling_leaves_one_value, ()) {
  History h;
  for (const auto& s : *rc::gen::container<std::vector<Step>>(gen_step())) h.apply(s);
  DvvSet all = h.converged();
  all.update(all.context(), "node_b", false, "\"resolved\"");
  RC_ASSERT(all.siblings().size() == 1u);
  RC_ASSERT(all.siblings()[0].value == "\"resolved\"");
}

TEST(DvvSet, write_without_context_becomes_a_sibling) {
  DvvSet x;
  x.update({}, "node_a", false, "\"Alice\"");
  x.update({}, "node_a", false, "\"Bob\"");
  ASSERT_EQ(x.siblings().size(), 2u);
  EXPECT_EQ(x.siblings()[0].dot, (Dot{"node_a", 1}));
  EXPECT_EQ(x.siblings()[1].dot, (Dot{"node_a", 2}));
  EXPECT_EQ(x.context().get("node_a"), 2u);
}

TEST(DvvSet, write_with_context_replaces_exactly_the_covered_siblings) {
  DvvSet x;
  x.update({}, "node_a", false, "\"one\"");
  VersionVector seen = x.context();  // a client read here: it saw "one"
  x.update({}, "node_b", false, "\"two\"");
  x.update(seen, "node_a", false, "\"three\"");
  std::vector<std::string> values;
  for (const auto& s : x.siblings()) values.push_back(s.value);
  EXPECT_EQ(values, (std::vector<std::string>{"\"three\"", "\"two\""}));
}

TEST(DvvSet, sibling_clocks_show_each_writes_causal_past) {
  // The seed's example: two writes that each saw a different earlier version are concurrent.
  DvvSet x;
  x.update({}, "node_5001", false, "\"base\"");
  VersionVector ctx = x.context();
  x.update(ctx, "node_5001", false, "\"Alice\"");
  DvvSet y;
  y.merge(x);
  y.update(ctx, "node_5002", false, "\"Bob\"");
  x.merge(y);
  ASSERT_EQ(x.siblings().size(), 2u);
  EXPECT_EQ(x.siblings()[0].clock().entries(), (std::vector<VersionVector::Entry>{{"node_5001", 2}}));
  EXPECT_EQ(x.siblings()[1].clock().entries(),
            (std::vector<VersionVector::Entry>{{"node_5001", 1}, {"node_5002", 1}}));
}

TEST(DvvSet, a_delete_is_a_tombstone_that_a_concurrent_write_survives) {
  DvvSet x;
  x.update({}, "node_a", false, "\"v\"");
  DvvSet y = x;
  x.update(x.context(), "node_a", true, "");
  EXPECT_TRUE(x.deleted());
  y.update(y.context(), "node_b", false, "\"w\"");
  x.merge(y);
  EXPECT_FALSE(x.deleted());
  ASSERT_EQ(x.siblings().size(), 2u);
  EXPECT_TRUE(x.siblings()[0].tombstone);
  EXPECT_EQ(x.siblings()[1].value, "\"w\"");
}

TEST(DvvSet, a_dot_floor_keeps_a_rewritten_key_out_of_reach_of_an_old_copy) {
  // The key was written and deleted through node_a; a copy of that tombstone survives somewhere
  // while the key was removed (reaped) here and is written again.
  DvvSet old;
  old.update({}, "node_a", false, "\"v\"");
  old.update(old.context(), "node_a", true, "");
  ASSERT_EQ(old.context().get("node_a"), 2u);

  DvvSet reused;  // numbered from the (empty) object alone: (node_a,1), which the old copy covers
  EXPECT_EQ(reused.update({}, "node_a", false, "\"again\""), (Dot{"node_a", 1}));
  reused.merge(old);
  EXPECT_TRUE(reused.deleted()) << "the new write was taken for one the tombstone had deleted";

  DvvSet floored;  // numbered above the floor the reaping raised to the tombstone's counters
  EXPECT_EQ(floored.update({}, "node_a", false, "\"again\"", 2), (Dot{"node_a", 3}));
  floored.merge(old);
  ASSERT_EQ(floored.siblings().size(), 1u);
  EXPECT_EQ(floored.siblings()[0].value, "\"again\"");
  EXPECT_EQ(floored.update(floored.context(), "node_a", false, "\"next\"", 2), (Dot{"node_a", 4}));
}

// Two nodes under one id (a protocol violation the membership refuses) both make (node_x,1).
TEST(DvvSet, a_dot_made_twice_keeps_both_writes_as_siblings_until_a_write_resolves_them) {
  DvvSet side1, side2;
  side1.update({}, "node_x", false, "\"side-1\"");
  side2.update({}, "node_x", false, "\"side-2\"");
  ASSERT_EQ(side1.siblings()[0].dot, side2.siblings()[0].dot);
  EXPECT_EQ(side1.dot_collisions(), 0u);

  DvvSet a = side1, b = side2;
  a.merge(side2);
  b.merge(side1);
  EXPECT_EQ(a, b);  // in the same order on every replica
  ASSERT_EQ(a.siblings().size(), 2u) << "one of two acknowledged writes was taken for the other";
  EXPECT_EQ(a.dot_collisions(), 2u);
  DvvSet again = a;
  again.merge(side1);
  again.merge(b);
  EXPECT_EQ(again, a);  // merging what is already held changes nothing

  // The object travels between replicas like any other.
  EXPECT_EQ(*decode_object(encode_object(a)), a);

  // A write that saw both replaces both; a replica still holding one of them drops it on merge.
  a.update(a.context(), "node_y", false, "\"merged\"");
  ASSERT_EQ(a.siblings().size(), 1u);
  side2.merge(a);
  EXPECT_EQ(side2, a);
}

TEST(DvvSet, a_replica_reports_a_dot_made_twice_once) {
  DvvSet side1, side2;
  side1.update({}, "node_x", false, "\"side-1\"");
  side2.update({}, "node_x", false, "\"side-2\"");
  auto stored = encode_object(side1);
  auto first = apply_update(stored, MergeWrite{encode_object(side2)});
  ASSERT_TRUE(first.is_ok());
  EXPECT_TRUE(first->dot_collision);
  ASSERT_TRUE(first->bytes);
  EXPECT_EQ(decode_object(*first->bytes)->siblings().size(), 2u);
  auto second = apply_update(*first->bytes, MergeWrite{encode_object(side2)});
  ASSERT_TRUE(second.is_ok());
  EXPECT_FALSE(second->dot_collision);
  EXPECT_FALSE(second->bytes);  // nothing new: no write
}

}  // namespace
}  // namespace md::core
