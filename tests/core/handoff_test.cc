// Sloppy quorum and hinted handoff, driven message by message in virtual time (sim::Cluster).
#include <gtest/gtest.h>

#include "core/cluster_state.h"
#include "core/hinted_handoff.h"
#include "core/node.h"
#include "sim/cluster.h"

namespace md::core {
namespace {

ClientRequest put(std::string key, std::string value, uint32_t w, bool sloppy = true) {
  ClientRequest r;
  r.op = Op::put;
  r.key = std::move(key);
  r.value = std::move(value);
  r.w = w;
  r.sloppy_quorum = sloppy;
  return r;
}

sim::ClusterOptions nodes(size_t count) {
  sim::ClusterOptions options;
  options.nodes = count;
  return options;
}

class Handoff : public ::testing::Test {
 protected:
  explicit Handoff(size_t count = 3) : cluster(nodes(count)) {}

  ClientResponse call(size_t at, ClientRequest request) {
    auto response = cluster.await(cluster.submit(at, std::move(request)));
    EXPECT_TRUE(response.has_value());
    return response.value_or(ClientResponse{});  // no answer: the EXPECT above fails the test
  }
  // Hints for `owner` held anywhere in the cluster.
  uint64_t hints_for(size_t owner) {
    uint64_t total = 0;
    for (size_t i = 0; i < cluster.size(); ++i) {
      if (cluster.is_up(i)) total += cluster.node(i).pending_hints()[owner];
    }
    return total;
  }
  uint64_t total(uint64_t NodeCounters::*counter) {
    uint64_t sum = 0;
    for (size_t i = 0; i < cluster.size(); ++i) {
      if (cluster.is_up(i)) sum += cluster.node(i).counters().*counter;
    }
    return sum;
  }
  std::vector<std::string> values(size_t node, const std::string& key) {
    std::vector<std::string> out;
    if (auto object = cluster.stored(node, key)) {
      for (const auto& s : object->siblings()) out.push_back(s.value);
    }
    return out;
  }
  std::vector<MemberIndex> walk(const std::string& key) {
    auto w = cluster.ring().preference_list(cluster.ring().partition_of_key(key), cluster.size());
    return {w.begin(), w.end()};
  }

  sim::Cluster cluster;
};

class HandoffFourNodes : public Handoff {
 protected:
  HandoffFourNodes() : Handoff(4) {}
};

// W counts machines: with one of three nodes down, no node outside the preference list can stand
// in, and a hint kept beside a replica on one machine is not a third copy.
TEST_F(Handoff, with_one_of_three_down_w3_answers_503_and_w2_succeeds_and_both_reach_the_owner_without_a_read) {
  cluster.crash(2);
  auto w3 = call(0, put("k3", "\"two copies\"", 3));
  EXPECT_EQ(w3.outcome, Outcome::unavailable);
  EXPECT_EQ(w3.required, 3u);
  EXPECT_EQ(w3.acknowledged, 2u);
  EXPECT_LT(cluster.now_ms(), NodeOptions{}.request_timeout_ms);  // at once, not at the deadline
  auto w = call(0, put("k", "\"handed\"", 2));
  ASSERT_EQ(w.outcome, Outcome::ok) << w.message;
  EXPECT_EQ(w.acknowledged, 2u);
  EXPECT_EQ(hints_for(2), 2u);  // kept by the coordinator for both writes

  cluster.restart(2);
  cluster.run_for(500);
  EXPECT_EQ(values(2, "k"), std::vector<std::string>{"\"handed\""});
  EXPECT_EQ(values(2, "k3"), std::vector<std::string>{"\"two copies\""});  // a 503 write is indeterminate
  EXPECT_EQ(hints_for(2), 0u);
  EXPECT_EQ(total(&NodeCounters::hints_delivered), 2u);
  EXPECT_EQ(total(&NodeCounters::read_repairs), 0u);
  EXPECT_EQ(total(&NodeCounters::replica_reads), 0u);
}

TEST_F(Handoff, a_strict_write_does_not_count_fallbacks_and_fails_once_the_live_replicas_answered) {
  cluster.crash(2);
  auto w = call(0, put("k", "\"strict\"", 3, false));
  EXPECT_EQ(w.outcome, Outcome::unavailable);
  EXPECT_EQ(w.required, 3u);
  EXPECT_EQ(w.acknowledged, 2u);  // both live replicas stored it before the answer
  EXPECT_NE(w.message.find("strict"), std::string::npos);
  EXPECT_NE(w.message.find("indeterminate"), std::string::npos);
  EXPECT_LT(cluster.now_ms(), NodeOptions{}.request_timeout_ms);
  // Indeterminate, as every 503: it is stored on two replicas, and the down one gets it later.
  cluster.restart(2);
  cluster.run_for(500);
  EXPECT_EQ(values(2, "k"), std::vector<std::string>{"\"strict\""});
}

// With four nodes a W=3 write survives one dead replica: the fourth machine stands in and counts.
TEST_F(HandoffFourNodes, the_next_node_beyond_the_preference_list_keeps_the_hint_apart_from_its_data) {
  auto order = walk("k");
  MemberIndex coordinator = order[0], owner = order[1], fallback = order[3];
  cluster.crash(owner);
  auto w = call(coordinator, put("k", "\"v\"", 3));
  ASSERT_EQ(w.outcome, Outcome::ok) << w.message;
  EXPECT_EQ(cluster.node(fallback).pending_hints()[owner], 1u);
  EXPECT_FALSE(cluster.stored(fallback, "k").has_value()) << "a hint is not the fallback's own replica";

  cluster.restart(owner);
  cluster.run_for(500);
  EXPECT_EQ(values(owner, "k"), std::vector<std::string>{"\"v\""});
  EXPECT_EQ(cluster.node(fallback).pending_hints()[owner], 0u);
  EXPECT_EQ(cluster.node(fallback).counters().hints_delivered, 1u);
}

TEST_F(Handoff, hints_for_one_key_and_owner_merge_into_one) {
  cluster.crash(2);
  for (int i = 0; i < 5; ++i) ASSERT_EQ(call(0, put("k", std::to_string(i), 2)).outcome, Outcome::ok);
  EXPECT_EQ(hints_for(2), 1u);
  EXPECT_GE(total(&NodeCounters::hints_stored), 5u);
  cluster.restart(2);
  cluster.run_for(500);
  // Blind writes are concurrent: the owner has all five as siblings.
  EXPECT_EQ(values(2, "k").size(), 5u);
  EXPECT_EQ(hints_for(2), 0u);
}

TEST_F(HandoffFourNodes, hints_survive_a_restart_of_their_holder) {
  auto order = walk("k");
  MemberIndex coordinator = order[0], owner = order[1], fallback = order[3];
  cluster.crash(owner);
  ASSERT_EQ(call(coordinator, put("k", "\"kept\"", 3)).outcome, Outcome::ok);
  cluster.crash(fallback);
  cluster.restart(fallback);
  EXPECT_EQ(cluster.node(fallback).counters().hints_recovered, 1u);
  EXPECT_EQ(cluster.node(fallback).pending_hints()[owner], 1u);

  cluster.restart(owner);
  cluster.run_for(500);
  EXPECT_EQ(values(owner, "k"), std::vector<std::string>{"\"kept\""});
  EXPECT_EQ(cluster.node(fallback).pending_hints()[owner], 0u);
}

TEST_F(Handoff, a_hint_stays_until_the_owner_acknowledged_it) {
  cluster.crash(2);
  ASSERT_EQ(call(0, put("k", "\"late\"", 2)).outcome, Outcome::ok);
  cluster.restart(2);
  cluster.partition({0, 0, 1});  // node 2's connections stay up, but nothing reaches it
  cluster.run_for(3 * NodeOptions{}.request_timeout_ms);
  EXPECT_EQ(hints_for(2), 1u);
  EXPECT_GE(total(&NodeCounters::handoff_failures), 1u);  // a delivery timed out unacknowledged
  // Once its heartbeats stopped, the failure detector suspects it: no more futile deliveries.
  EXPECT_EQ(cluster.node(0).peer_status(2), PeerStatus::suspect);
  EXPECT_EQ(cluster.node(1).peer_status(2), PeerStatus::suspect);
  EXPECT_FALSE(cluster.stored(2, "k").has_value());

  cluster.heal();
  // A delivery lost at the heal times out, then waits the longest backoff.
  cluster.run_for(NodeOptions{}.request_timeout_ms + NodeOptions{}.handoff_retry_max_ms + 500);
  EXPECT_EQ(values(2, "k"), std::vector<std::string>{"\"late\""});
  EXPECT_EQ(hints_for(2), 0u);
}

TEST_F(Handoff, a_replica_silent_past_the_deadline_gets_the_write_from_its_coordinator) {
  cluster.partition({0, 0, 1});
  ASSERT_EQ(call(0, put("k", "\"quiet\"", 2)).outcome, Outcome::ok);
  cluster.run_for(NodeOptions{}.request_timeout_ms);
  EXPECT_EQ(cluster.node(0).pending_hints()[2], 1u);
  cluster.heal();
  cluster.run_for(3000);
  EXPECT_EQ(values(2, "k"), std::vector<std::string>{"\"quiet\""});
  EXPECT_EQ(total(&NodeCounters::read_repairs), 0u);
}

// Members are numbered in joining order, so a joiner whose address sorts before the founders'
// (port 10000 joining 5001-5003) comes last: its hints must still be found after a restart.
TEST(HintRecovery, hints_for_a_joiner_that_sorts_before_the_founders_are_found_again_after_a_restart) {
  auto state = founding_state(*Ring::create({"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"}, 64));
  ASSERT_TRUE(announce(state, "127.0.0.1:10000", "node_joiner").is_ok());
  ASSERT_TRUE(advance_ring(state, 3));
  ASSERT_EQ(state.members.back(), "127.0.0.1:10000");
  Node node(state, 0, "node_a", 0, NodeOptions{}, 1);
  node.on_hints_recovered({encode_hint_key("127.0.0.1:10000", "k"), encode_hint_key("127.0.0.1:5002", "k")});
  EXPECT_EQ(node.counters().hints_recovered, 2u);
  EXPECT_EQ(node.counters().hints_unreadable, 0u);
  EXPECT_EQ(node.pending_hints()[3], 1u);
  EXPECT_EQ(node.pending_hints()[1], 1u);
  node.on_hints_recovered({encode_hint_key("127.0.0.1:9999", "k")});  // no such member: left alone
  EXPECT_EQ(node.counters().hints_unreadable, 1u);
}

TEST(HintKey, round_trips_and_rejects_what_is_not_a_hint_key) {
  auto decoded = decode_hint_key(encode_hint_key("127.0.0.1:5003", "user/42"));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->owner, "127.0.0.1:5003");
  EXPECT_EQ(decoded->key, "user/42");
  for (std::string bad : {std::string(), std::string("\x01\x00", 2), std::string("\x02\x00\x01" "ak", 3 + 2),
                          std::string("\x01\x00\x05" "ab", 3 + 2), std::string("\x01\x00\x01" "a", 3 + 1)}) {
    EXPECT_FALSE(decode_hint_key(bad).is_ok()) << bad.size();
  }
}

}  // namespace
}  // namespace md::core
