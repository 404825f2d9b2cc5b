#include "core/cluster_state.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdio>
#include <limits>

namespace md::core {
namespace {

ClusterState founded(size_t k, uint32_t q = 64) {
  std::vector<std::string> members;
  for (size_t i = 0; i < k; ++i) members.push_back("127.0.0.1:" + std::to_string(5001 + i));
  return founding_state(*Ring::create(members, q));
}

// Makes every planned transfer done (as their sources would record them).
void finish_transfers(ClusterState& state) {
  for (auto t : state.transfers) {
    t.done = true;
    record_transfer(state, t);
  }
}

// The claimant's steps until the ring serves every change asked for, with every transfer done.
ClusterState settled(ClusterState state) {
  do {
    finish_transfers(state);
  } while (advance_ring(state, 3));
  return state;
}

// A state some node may hold: the founding one after some admissions and departures, having heard
// of some joiners, with transfers some way along.
ClusterState some_history(const std::vector<int>& steps) {
  ClusterState state = founded(3);
  for (int step : steps) {
    if (step % 17 == 4 && !state.transfers.empty()) {  // a transfer's progress, recorded by its source
      auto t = state.transfers[static_cast<size_t>(step) % state.transfers.size()];
      t.keys += static_cast<uint64_t>(step % 5);
      t.cursor = "k" + std::to_string(t.keys);
      t.done = step % 2 == 0;
      record_transfer(state, t);
    } else if (step % 19 == 6 && state.members.size() > 2) {  // a departure asked for
      const auto& name = state.members[static_cast<size_t>(step) % state.members.size()];
      Departure d{step % 3 == 0 ? DepartureKind::remove : DepartureKind::leave, {}};
      if (check_departure(state, name, d).is_ok()) state.departures.emplace(name, d);
    } else if (step % 3 == 0) {
      advance_ring(state, 3);
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

// Every planned transfer goes from a replica of the partition under the owners serving now to a
// member that is not one but becomes one under the next owners.
void expect_sound(const ClusterState& state) {
  auto now = ring_of(state), next = *next_ring_of(state);
  for (const auto& t : state.transfers) {
    auto before = now.preference_list(t.partition, 3), after = next.preference_list(t.partition, 3);
    EXPECT_NE(std::find(before.begin(), before.end(), t.from), before.end()) << "the source holds partition " << t.partition;
    EXPECT_EQ(std::find(before.begin(), before.end(), t.to), before.end()) << "the receiver is new to " << t.partition;
    EXPECT_NE(std::find(after.begin(), after.end(), t.to), after.end()) << "the receiver replicates " << t.partition;
  }
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
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(state.ring_version, 2u);
  ASSERT_EQ(state.members.size(), 5u);
  EXPECT_EQ(state.members.back(), "127.0.0.1:5009");  // indexes of earlier members never change
  // Planned, not serving yet: the joiner is a member that owns nothing until its data has landed.
  EXPECT_EQ(state.owners, founded(4, 256).owners);
  EXPECT_EQ(ring_of(state).serving(), 4u);
  ASSERT_FALSE(state.transfers.empty());
  // Mostly to the joiner; a list the joiner enters may also take in another member in its walk.
  auto to_joiner = std::count_if(state.transfers.begin(), state.transfers.end(), [](const Transfer& t) { return t.to == 4u; });
  EXPECT_GT(2 * static_cast<size_t>(to_joiner), state.transfers.size());
  expect_sound(state);
  EXPECT_FALSE(advance_ring(state, 3)) << "nothing to do while transfers are under way";
  finish_transfers(state);
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(state.ring_version, 3u);
  EXPECT_TRUE(state.next_owners.empty());
  EXPECT_TRUE(state.transfers.empty());
  EXPECT_FALSE(advance_ring(state, 3));  // nothing left to admit
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
  EXPECT_FALSE(advance_ring(state, 3));
  EXPECT_EQ(state, before);
  state.ring_version -= 1;  // one below: the last admission there is
  EXPECT_TRUE(advance_ring(state, 3));
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
  ASSERT_TRUE(ring_behind(state, 3));
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(state.ring_version, 2u);
  EXPECT_EQ(state.member_zones, (std::vector<std::string>{"east", "", "", ""}));
  EXPECT_FALSE(ring_behind(state, 3));
  EXPECT_FALSE(*announce(state, "127.0.0.1:5001", "node_a", "east"));  // the same again changes nothing

  // A joiner's zone comes with its admission: one new version, not two.
  ASSERT_TRUE(*announce(state, "127.0.0.1:5009", "node_j", "west"));
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(state.ring_version, 3u);
  EXPECT_FALSE(state.next_owners.empty());
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
  advance_ring(other, 3);
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

uint32_t owned_by(const ClusterState& state, MemberIndex m) {
  return static_cast<uint32_t>(std::count(state.owners.begin(), state.owners.end(), m));
}

MemberIndex index_of(const ClusterState& state, const std::string& name) {
  return static_cast<MemberIndex>(std::find(state.members.begin(), state.members.end(), name) - state.members.begin());
}

TEST(ClusterState, a_leaver_hands_its_partitions_off_itself_and_departs_once_they_landed) {
  auto state = founded(4, 64);
  const MemberIndex leaver = 0;  // the claimant: the next member takes over planning
  ASSERT_TRUE(check_departure(state, state.members[leaver], {DepartureKind::leave, {}}).is_ok());
  state.departures[state.members[leaver]] = {DepartureKind::leave, {}};
  EXPECT_EQ(claimant(state), 1u);
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(owned_by(state, leaver), 16u) << "it serves until its transfers are done";
  EXPECT_FALSE(departed(state, leaver));
  ASSERT_FALSE(state.transfers.empty());
  for (const auto& t : state.transfers) EXPECT_EQ(t.from, leaver) << "it streams what it gives up";
  expect_sound(state);
  finish_transfers(state);
  ASSERT_TRUE(advance_ring(state, 3));
  EXPECT_EQ(owned_by(state, leaver), 0u);
  EXPECT_TRUE(departed(state, leaver));
  auto ring = ring_of(state);
  EXPECT_TRUE(ring.departed(leaver));
  EXPECT_EQ(ring.serving(), 3u);
  for (uint32_t p = 0; p < 64; ++p) {
    auto list = ring.preference_list(p, 3);
    EXPECT_EQ(std::find(list.begin(), list.end(), leaver), list.end());
  }
  EXPECT_FALSE(advance_ring(state, 3));
}

TEST(ClusterState, a_removed_node_is_rebuilt_from_the_surviving_replicas) {
  auto state = founded(5, 64);
  const MemberIndex dead = 2;
  state.departures[state.members[dead]] = {DepartureKind::remove, {}};
  ASSERT_TRUE(advance_ring(state, 3));
  ASSERT_FALSE(state.transfers.empty());
  expect_sound(state);
  auto next = *next_ring_of(state);
  for (const auto& t : state.transfers) {
    EXPECT_NE(t.from, dead) << "a removed node may be dead: never a source";
    auto after = next.preference_list(t.partition, 3);
    EXPECT_NE(std::find(after.begin(), after.end(), t.from), after.end()) << "a survivor, kept as a replica";
  }
  state = settled(state);
  EXPECT_TRUE(departed(state, dead));
  EXPECT_EQ(check_departure(state, state.members[dead], {DepartureKind::remove, {}}).code(), Code::conflict)
      << "it has left already";
}

TEST(ClusterState, a_replacement_takes_exactly_the_old_nodes_partitions_once_it_has_announced_itself) {
  auto state = founded(4, 64);
  const std::string old = state.members[1], fresh = "127.0.0.1:5100";
  ASSERT_TRUE(check_departure(state, old, {DepartureKind::replace, fresh}).is_ok());
  state.departures[old] = {DepartureKind::replace, fresh};
  EXPECT_FALSE(advance_ring(state, 3)) << "the new node has not joined yet: nothing to plan";
  ASSERT_TRUE(*announce(state, fresh, "node_fresh"));
  state = settled(state);
  const MemberIndex m = index_of(state, fresh);
  for (uint32_t p = 0; p < 64; ++p) {
    EXPECT_EQ(state.owners[p] == m, founded(4, 64).owners[p] == 1u) << "partition " << p;
  }
  EXPECT_TRUE(departed(state, 1));
}

TEST(ClusterState, transfers_come_from_members_that_are_up_and_move_on_when_their_source_goes_down) {
  auto state = founded(4, 64);
  std::vector<bool> up{true, true, false, true};  // member 2 is down when a node joins
  ASSERT_TRUE(*announce(state, "127.0.0.1:5100", "node_new"));
  up.push_back(true);
  ASSERT_TRUE(advance_ring(state, 3, up));
  expect_sound(state);
  for (const auto& t : state.transfers) EXPECT_NE(t.from, 2u) << "a source that is down would stall the join";
  // Now member 1 goes down part-way: its transfers move to another replica, keeping their progress.
  for (auto t : state.transfers) {
    if (t.from != 1) continue;
    t.keys = 4;
    t.cursor = "k4";
    ASSERT_TRUE(record_transfer(state, t));
  }
  up = {true, false, true, true, true};
  const auto version = state.ring_version;
  ASSERT_TRUE(advance_ring(state, 3, up));
  EXPECT_EQ(state.ring_version, version + 1);
  size_t resumed = 0;
  for (const auto& t : state.transfers) {
    EXPECT_NE(t.from, 1u);
    resumed += t.keys == 4 && t.cursor == "k4";
  }
  EXPECT_GT(resumed, 0u) << "a moved transfer goes on after its cursor";
  expect_sound(state);
  EXPECT_FALSE(advance_ring(state, 3, up)) << "nothing more while the transfers run";
}

TEST(ClusterState, departures_are_checked) {
  auto state = founded(2, 64);
  EXPECT_EQ(check_departure(state, "10.9.9.9:1", {}).code(), Code::invalid_argument);  // not a member
  EXPECT_EQ(check_departure(state, state.members[0], {DepartureKind::replace, state.members[1]}).code(),
            Code::invalid_argument);  // the replacement is a member already
  state.departures[state.members[0]] = {DepartureKind::leave, {}};
  EXPECT_EQ(check_departure(state, state.members[0], {}).code(), Code::conflict);  // departing already
  // A leaver that died: its leave becomes a remove (or a replace), never the other way round.
  EXPECT_TRUE(check_departure(state, state.members[0], {DepartureKind::remove, {}}).is_ok());
  auto removed = state;
  removed.departures[state.members[0]] = {DepartureKind::remove, {}};
  EXPECT_EQ(check_departure(removed, state.members[0], {DepartureKind::leave, {}}).code(), Code::conflict);
  EXPECT_EQ(merged(state, removed).departures.at(state.members[0]).kind, DepartureKind::remove);
  EXPECT_EQ(merged(removed, state).departures.at(state.members[0]).kind, DepartureKind::remove);
  auto last = check_departure(state, state.members[1], {DepartureKind::remove, {}});
  EXPECT_EQ(last.code(), Code::invalid_argument);
  EXPECT_NE(last.message().find("last"), std::string::npos) << last.message();
  // Asked on two nodes at once, both departures arrive: the one that would empty the ring is not planned.
  state.departures[state.members[1]] = {DepartureKind::leave, {}};
  auto before = state;
  EXPECT_FALSE(advance_ring(state, 3));
  EXPECT_EQ(state, before);
}

TEST(ClusterState, a_new_plan_keeps_the_progress_of_the_transfers_it_shares_with_the_last) {
  auto state = founded(6, 256);
  state.departures[state.members[3]] = {DepartureKind::leave, {}};
  ASSERT_TRUE(advance_ring(state, 3));
  const auto first = state.transfers;
  for (auto t : first) {
    t.keys = 10;
    t.cursor = "k10";
    ASSERT_TRUE(record_transfer(state, t));
  }
  auto t = first.front();
  t.keys = 5;
  EXPECT_FALSE(record_transfer(state, t)) << "less progress than recorded: kept";
  // Another member leaves while the first leave is under way: one plan for both, from the owners
  // serving now.
  state.departures[state.members[5]] = {DepartureKind::leave, {}};
  ASSERT_TRUE(advance_ring(state, 3));
  size_t shared = 0;
  for (const auto& now : state.transfers) {
    bool before = std::any_of(first.begin(), first.end(), [&](const Transfer& f) {
      return f.partition == now.partition && f.from == now.from && f.to == now.to;
    });
    shared += before;
    EXPECT_EQ(now.keys, before ? 10u : 0u) << "partition " << now.partition;
  }
  EXPECT_GT(shared, 0u);
  EXPECT_TRUE(validate(state).is_ok());
}

// Claim quality, as the claimant applies it: grown one join at a time from 3 to 16 nodes, then
// shrunk back to 3 by leaves and removes in turn. After each change the partitions that change
// owner are at most 1.1 x the ideal share (Q / nodes after a join; the partitions the departing
// node owned, which any claim must move, for a leave or remove), and no node owns more than
// ceil(Q / nodes) + 1.
// docs/design.md shows the table this prints.
TEST(ClusterState, claim_moves_at_most_a_tenth_over_the_ideal_share_from_3_to_16_nodes_and_back) {
  for (uint32_t q : {64u, 256u, 1024u}) {
    auto state = founded(3, q);
    auto check = [&](const std::vector<MemberIndex>& before, const char* what, double k_ideal) {
      const auto serving = ring_of(state).serving();
      uint32_t moved = 0;
      for (uint32_t p = 0; p < q; ++p) moved += before[p] != state.owners[p];
      const double ideal = static_cast<double>(k_ideal);
      uint32_t most = 0;
      for (MemberIndex m = 0; m < state.members.size(); ++m) most = std::max(most, owned_by(state, m));
      EXPECT_LE(moved, 1.1 * ideal) << what << " to " << serving << " nodes, Q=" << q;
      EXPECT_LE(most, (q + serving - 1) / serving + 1) << what << " to " << serving << " nodes, Q=" << q;
      if (q == 256) {
        std::printf("Q=%u %-6s -> %2zu nodes: %3u partitions moved (ideal %.1f), most owned %u\n", q, what, serving,
                    moved, ideal, most);
      }
    };
    for (int k = 3; k < 16; ++k) {
      auto before = state.owners;
      ASSERT_TRUE(*announce(state, "127.0.0.1:" + std::to_string(6000 + k), "node_" + std::to_string(k)));
      state = settled(state);
      check(before, "join", static_cast<double>(q) / (k + 1));
    }
    for (int k = 16; k > 3; --k) {
      auto before = state.owners;
      std::string name;
      for (MemberIndex m = 0; m < state.members.size() && name.empty(); ++m) {
        if (!departed(state, m)) name = state.members[m];
      }
      const bool leave = k % 2 == 0;
      const double share = owned_by(state, index_of(state, name));  // the least any claim could move
      ASSERT_TRUE(check_departure(state, name, {leave ? DepartureKind::leave : DepartureKind::remove, {}}).is_ok());
      state.departures[name] = {leave ? DepartureKind::leave : DepartureKind::remove, {}};
      state = settled(state);
      check(before, leave ? "leave" : "remove", share);
    }
  }
}

TEST(ClusterState, merge_keeps_the_newer_ring_and_every_announcement) {
  auto old_state = founded(3);
  auto newer = old_state;
  newer.node_ids["127.0.0.1:5004"] = "d";
  advance_ring(newer, 3);
  old_state.node_ids["127.0.0.1:5005"] = "e";
  EXPECT_TRUE(*merge(old_state, newer));
  EXPECT_EQ(old_state.ring_version, 2u);
  EXPECT_EQ(old_state.members, newer.members);
  EXPECT_EQ(joiners(old_state), std::vector<std::string>{"127.0.0.1:5005"});
}

}  // namespace
}  // namespace md::core
