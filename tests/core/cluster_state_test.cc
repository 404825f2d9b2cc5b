#include "core/cluster_state.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <limits>

namespace md::core {
namespace {

ClusterState founded(size_t k, uint32_t q = 64) {
  std::vector<std::string> members;
  for (size_t i = 0; i < k; ++i) members.push_back("127.0.0.1:" + std::to_string(5001 + i));
  return founding_state(*Ring::create(members, q));
}

// A state some node may hold: the founding one after some admissions, having heard of some joiners.
ClusterState some_history(const std::vector<int>& steps) {
  ClusterState state = founded(3);
  for (int step : steps) {
    if (step % 3 == 0) {
      advance_ring(state);
    } else if (step % 5 == 0) {
      move_member(state, state.members[static_cast<size_t>(step) % 3], "10.0.0." + std::to_string(step % 4) + ":5001");
    } else if (step % 11 == 2) {  // a user changed on some node (two nodes may make one revision)
      User user;
      user.revision = static_cast<uint64_t>(step % 4);
      user.removed = step % 13 == 0;
      user.grants["app/" + std::to_string(step % 3)] = static_cast<Permissions>(1 + step % 15);
      state.users["user" + std::to_string(step % 3)] = user;
    } else if (step % 7 == 1) {  // zones announced (two for one address, as only a bug would)
      state.zones["127.0.0.1:" + std::to_string(5001 + step % 4)] = "z" + std::to_string(step % 11 % 3);
    } else {
      // Each address has ids of its own (a data dir replaced under a new id), never another's.
      state.node_ids["127.0.0.1:" + std::to_string(6000 + step % 7)] =
          "id" + std::to_string(step % 7) + "_" + std::to_string(step % 2);
    }
  }
  return state;
}

TEST(ClusterState, founding_state_describes_the_ring_and_names_the_cluster) {
  auto state = founded(3);
  EXPECT_EQ(state.ring_version, 1u);
  EXPECT_TRUE(validate(state).is_ok());
  EXPECT_EQ(ring_of(state).owner_ids(), Ring::create(state.members, 64)->owner_ids());
  EXPECT_NE(state.cluster_id, founded(4).cluster_id);
  EXPECT_NE(state.cluster_id, founded(3, 128).cluster_id);
  EXPECT_TRUE(joiners(state).empty());
}

TEST(ClusterState, the_claimant_appends_joiners_and_moves_partitions_only_to_them) {
  auto state = founded(4, 256);
  auto before = ring_of(state);
  state.node_ids["127.0.0.1:5009"] = "node_new";
  state.node_ids["127.0.0.1:5001"] = "node_5001";  // a member's own announcement is no join
  ASSERT_EQ(joiners(state), std::vector<std::string>{"127.0.0.1:5009"});
  ASSERT_TRUE(advance_ring(state));
  EXPECT_FALSE(advance_ring(state));  // nothing left to admit
  EXPECT_EQ(state.ring_version, 2u);
  ASSERT_EQ(state.members.size(), 5u);
  EXPECT_EQ(state.members.back(), "127.0.0.1:5009");  // indexes of earlier members never change
  auto after = ring_of(state);
  uint32_t moved = 0, replica_of = 0;
  for (uint32_t p = 0; p < 256; ++p) {
    if (after.owner(p) != before.owner(p)) {
      EXPECT_EQ(after.owner(p), 4u) << p;
      ++moved;
    }
    auto list = after.preference_list(p, 3);
    replica_of += std::find(list.begin(), list.end(), 4u) != list.end();
  }
  EXPECT_EQ(moved, 256u / 5);
  // Spread out, not one block: the newcomer replicates close to its 3/5 share of partitions.
  EXPECT_GE(replica_of, 256u * 2 / 5) << "the newcomer's partitions lie together";
}

TEST(ClusterState, validate_refuses_broken_states) {
  auto good = founded(3);
  auto bad = good;
  bad.owners[5] = 3;  // no such member
  EXPECT_FALSE(validate(bad).is_ok());
  bad = good;
  bad.owners.pop_back();  // not a power of two
  EXPECT_FALSE(validate(bad).is_ok());
  bad = good;
  bad.members[1] = bad.members[0];
  EXPECT_FALSE(validate(bad).is_ok());
  bad = good;
  bad.ring_version = 0;
  EXPECT_FALSE(validate(bad).is_ok());
  bad = good;
  bad.node_ids["127.0.0.1:1"] = "";
  EXPECT_FALSE(validate(bad).is_ok());
  bad = good;
  bad.node_ids["10.0.0.1:5001"] = "node_x";
  bad.node_ids["10.0.0.2:5001"] = "node_x";  // one id, two nodes
  EXPECT_FALSE(validate(bad).is_ok());
}

// Found by the cluster_state fuzzer: admitting a joiner into a state at the largest ring version
// wrapped the version to 0, a state every node refuses.
TEST(ClusterState, joiners_are_not_admitted_past_the_largest_ring_version) {
  auto state = founded(3);
  state.ring_version = std::numeric_limits<uint64_t>::max();
  state.node_ids["10.0.0.9:5001"] = "node_joiner";
  ASSERT_TRUE(validate(state).is_ok());
  auto before = state;
  EXPECT_FALSE(advance_ring(state));
  EXPECT_EQ(state, before);
  state.ring_version -= 1;  // one below: the last admission there is
  EXPECT_TRUE(advance_ring(state));
  EXPECT_EQ(state.ring_version, std::numeric_limits<uint64_t>::max());
  EXPECT_TRUE(validate(state).is_ok());
}

ClusterState merged(ClusterState into, const ClusterState& other) {
  EXPECT_TRUE(merge(into, other).is_ok());
  return into;
}

TEST(ClusterState, the_claimant_places_by_announced_zones_under_a_new_ring_version) {
  auto state = founded(4);
  ASSERT_TRUE(*announce(state, "127.0.0.1:5001", "node_a", "east"));
  EXPECT_TRUE(state.member_zones.empty()) << "placement changes only with the ring's version";
  ASSERT_TRUE(ring_behind(state));
  ASSERT_TRUE(advance_ring(state));
  EXPECT_EQ(state.ring_version, 2u);
  EXPECT_EQ(state.member_zones, (std::vector<std::string>{"east", "", "", ""}));
  EXPECT_FALSE(ring_behind(state));
  EXPECT_FALSE(*announce(state, "127.0.0.1:5001", "node_a", "east"));  // the same again changes nothing

  // A joiner's zone comes with its admission: one new version, not two.
  ASSERT_TRUE(*announce(state, "127.0.0.1:5009", "node_j", "west"));
  ASSERT_TRUE(advance_ring(state));
  EXPECT_EQ(state.ring_version, 3u);
  EXPECT_EQ(state.member_zones, (std::vector<std::string>{"east", "", "", "", "west"}));
  EXPECT_TRUE(validate(state).is_ok());

  // Two zones for one address (only a bug gets there): every node keeps the larger, in any order.
  auto a = state, b = state;
  a.zones["127.0.0.1:5002"] = "north";
  b.zones["127.0.0.1:5002"] = "south";
  EXPECT_EQ(merged(a, b).zones, merged(b, a).zones);
  EXPECT_EQ(merged(a, b).zones.at("127.0.0.1:5002"), "south");
}

TEST(ClusterState, zones_are_checked) {
  EXPECT_TRUE(validate_zone("eu-west-1a").is_ok());
  EXPECT_TRUE(validate_zone("rack_7.row2").is_ok());
  EXPECT_FALSE(validate_zone("").is_ok());
  EXPECT_FALSE(validate_zone("two words").is_ok());
  EXPECT_FALSE(validate_zone("quote\"").is_ok());
  EXPECT_FALSE(validate_zone(std::string(65, 'z')).is_ok());
  auto bad = founded(3);
  bad.zones["127.0.0.1:5001"] = "no spaces allowed";
  EXPECT_FALSE(validate(bad).is_ok());
  bad = founded(3);
  bad.member_zones = {"a", "b"};  // one per member, or none
  EXPECT_FALSE(validate(bad).is_ok());
  bad.member_zones = {"a", "", "b"};
  EXPECT_TRUE(validate(bad).is_ok());
}

TEST(ClusterState, an_id_held_by_another_address_is_refused_and_changes_nothing) {
  auto state = founded(3);
  ASSERT_TRUE(*announce(state, "127.0.0.1:5001", "node_a"));
  auto before = state;
  auto refused = announce(state, "127.0.0.1:5009", "node_a");  // a joiner that took a member's id
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().code(), Code::conflict);
  EXPECT_NE(refused.status().message().find("127.0.0.1:5001"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("127.0.0.1:5009"), std::string::npos) << refused.status().message();
  EXPECT_EQ(state, before);
  EXPECT_EQ(other_holder(state, "127.0.0.1:5009", "node_a"), "127.0.0.1:5001");
  EXPECT_EQ(other_holder(state, "127.0.0.1:5001", "node_a"), "");

  // Gossip that would put the id under a second address is refused whole: not even its newer ring
  // is taken, so one refusal cannot leave half a state behind.
  auto other = founded(3);
  other.node_ids["127.0.0.1:5002"] = "node_a";
  other.node_ids["127.0.0.1:5004"] = "node_d";
  advance_ring(other);
  EXPECT_FALSE(merge(state, other).is_ok());
  EXPECT_EQ(state, before);

  // The same address under a new id (its data dir replaced) is no duplicate.
  EXPECT_TRUE(announce(state, "127.0.0.1:5001", "node_b").is_ok());
}

RC_GTEST_PROP(ClusterState, merge_is_commutative_associative_and_idempotent,
              (std::vector<int> a, std::vector<int> b, std::vector<int> c)) {
  auto sa = some_history(a), sb = some_history(b), sc = some_history(c);
  RC_ASSERT(merged(sa, sb) == merged(sb, sa));
  RC_ASSERT(merged(merged(sa, sb), sc) == merged(sa, merged(sb, sc)));
  auto aa = sa;
  RC_ASSERT(!*merge(aa, sa));
  RC_ASSERT(aa == sa);
}

TEST(ClusterState, a_member_that_moved_is_found_by_its_id_and_reached_at_its_newest_address) {
  auto state = founded(3);
  ASSERT_TRUE(*announce(state, "127.0.0.1:5002", "node_b"));
  EXPECT_EQ(current_address(state, "127.0.0.1:5002"), "127.0.0.1:5002");
  // Restarted elsewhere with its data dir: its id finds its place, whatever its address now.
  EXPECT_EQ(find_self(state, "node_b", "10.1.0.7:5001"), "127.0.0.1:5002");
  EXPECT_EQ(find_self(state, "node_new", "127.0.0.1:5003"), "127.0.0.1:5003");  // first start: by address
  EXPECT_EQ(find_self(state, "node_new", "10.9.9.9:5001"), "");
  ASSERT_TRUE(move_member(state, "127.0.0.1:5002", "10.1.0.7:5001"));
  EXPECT_FALSE(move_member(state, "127.0.0.1:5002", "10.1.0.7:5001"));  // already there
  EXPECT_EQ(current_address(state, "127.0.0.1:5002"), "10.1.0.7:5001");
  EXPECT_EQ(find_self(state, "node_x", "10.1.0.7:5001"), "127.0.0.1:5002");

  // An older view of the member's address loses to the newer move in any merge order.
  auto older = founded(3);
  older.node_ids = state.node_ids;
  older.moves["127.0.0.1:5002"] = Move{"10.1.0.6:5001", 0 + 1};
  auto newer = state;
  ASSERT_TRUE(move_member(newer, "127.0.0.1:5002", "10.1.0.8:5001"));
  EXPECT_EQ(current_address(merged(older, newer), "127.0.0.1:5002"), "10.1.0.8:5001");
  EXPECT_EQ(current_address(merged(newer, older), "127.0.0.1:5002"), "10.1.0.8:5001");
  EXPECT_TRUE(validate(newer).is_ok());
  // The ring is untouched: the member keeps its index and partitions.
  EXPECT_EQ(newer.members, founded(3).members);
  EXPECT_EQ(newer.owners, founded(3).owners);
}

TEST(ClusterState, merge_keeps_the_newer_ring_and_every_announcement) {
  auto old_state = founded(3);
  auto newer = old_state;
  newer.node_ids["127.0.0.1:5004"] = "d";
  advance_ring(newer);
  old_state.node_ids["127.0.0.1:5005"] = "e";
  EXPECT_TRUE(*merge(old_state, newer));
  EXPECT_EQ(old_state.ring_version, 2u);
  EXPECT_EQ(old_state.members, newer.members);
  EXPECT_EQ(joiners(old_state), std::vector<std::string>{"127.0.0.1:5005"});
}

}  // namespace
}  // namespace md::core
