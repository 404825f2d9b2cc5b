// The node protocol driven message by message in virtual time (sim::Cluster): no sockets, no sleeps.
#include "core/node.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/context_token.h"
#include "sim/cluster.h"

namespace md::core {
namespace {

ClientRequest put(std::string key, std::string value, std::optional<std::string> context = std::nullopt) {
  ClientRequest r;
  r.op = Op::put;
  r.key = std::move(key);
  r.value = std::move(value);
  r.context_token = std::move(context);
  return r;
}
ClientRequest get(std::string key) {
  ClientRequest r;
  r.key = std::move(key);
  return r;
}
ClientRequest del(std::string key, std::optional<std::string> context = std::nullopt) {
  ClientRequest r;
  r.op = Op::del;
  r.key = std::move(key);
  r.context_token = std::move(context);
  return r;
}

class NodeTest : public ::testing::Test {
 protected:
  ClientResponse call(size_t at, ClientRequest request) {
    auto response = cluster.await(cluster.submit(at, std::move(request)));
    EXPECT_TRUE(response.has_value());
    return response.value_or(ClientResponse{});  // no answer: the EXPECT above fails the test
  }
  sim::Cluster cluster{sim::ClusterOptions{}};
};

TEST_F(NodeTest, a_write_is_readable_from_every_node) {
  auto w = call(0, put("user123", "\"Alice\""));
  ASSERT_EQ(w.outcome, Outcome::ok) << w.message;
  EXPECT_GE(w.acknowledged, 2u);
  EXPECT_FALSE(w.context_token.empty());
  for (size_t i = 0; i < 3; ++i) {
    auto r = call(i, get("user123"));
    ASSERT_EQ(r.outcome, Outcome::ok);
    ASSERT_EQ(r.siblings.size(), 1u);
    EXPECT_EQ(r.siblings[0].value, "\"Alice\"");
  }
  cluster.run_for(100);
  for (size_t i = 0; i < 3; ++i) EXPECT_TRUE(cluster.stored(i, "user123").has_value()) << i;
}

TEST_F(NodeTest, concurrent_blind_writes_become_siblings_and_a_write_with_context_resolves_them) {
  ASSERT_EQ(call(0, put("k", "\"Alice\"")).outcome, Outcome::ok);
  ASSERT_EQ(call(1, put("k", "\"Bob\"")).outcome, Outcome::ok);
  auto r = call(2, get("k"));
  ASSERT_EQ(r.siblings.size(), 2u);
  ASSERT_EQ(call(2, put("k", "\"Carol\"", r.context_token)).outcome, Outcome::ok);
  cluster.run_for(100);
  r = call(0, get("k"));
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].value, "\"Carol\"");
}

TEST_F(NodeTest, superseding_puts_replace_what_the_coordinator_holds_but_concurrent_ones_become_siblings) {
  auto set = [](std::string value) {
    auto r = put("k", std::move(value));
    r.supersede = true;
    return r;
  };
  for (auto value : {"1", "2", "3"}) ASSERT_EQ(call(0, set(value)).outcome, Outcome::ok);
  auto r = call(1, get("k"));
  ASSERT_EQ(r.siblings.size(), 1u);  // blind puts would have left three
  EXPECT_EQ(r.siblings[0].value, "3");

  // Two at once through different coordinators: neither saw the other's, so both stay.
  auto first = cluster.submit(0, set("\"from 0\""));
  auto second = cluster.submit(1, set("\"from 1\""));
  ASSERT_EQ(cluster.await(first)->outcome, Outcome::ok);
  ASSERT_EQ(cluster.await(second)->outcome, Outcome::ok);
  cluster.run_for(100);
  r = call(2, get("k"));
  ASSERT_EQ(r.siblings.size(), 2u);
  EXPECT_EQ(r.siblings[0].value + r.siblings[1].value, "\"from 0\"\"from 1\"");
  // A later one through a replica that holds both supersedes both.
  ASSERT_EQ(call(2, set("4")).outcome, Outcome::ok);
  r = call(0, get("k"));
  ASSERT_EQ(r.siblings.size(), 1u);
  EXPECT_EQ(r.siblings[0].value, "4");
  EXPECT_EQ(cluster.node(0).counters().blind_writes + cluster.node(1).counters().blind_writes +
                cluster.node(2).counters().blind_writes,
            0u);
}

TEST_F(NodeTest, delete_then_read_is_not_found_on_every_node) {
  ASSERT_EQ(call(0, put("k", "1")).outcome, Outcome::ok);
  ASSERT_EQ(call(1, del("k")).outcome, Outcome::ok);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(call(i, get("k")).outcome, Outcome::not_found);
  EXPECT_EQ(call(0, get("never-written")).outcome, Outcome::not_found);
}

TEST_F(NodeTest, with_one_node_down_w2_and_r2_succeed_and_a_strict_w3_fails_with_counts) {
  ASSERT_EQ(call(0, put("k", "1")).outcome, Outcome::ok);
  cluster.crash(2);
  auto w = call(0, put("k", "2"));
  EXPECT_EQ(w.outcome, Outcome::ok) << w.message;
  EXPECT_EQ(call(1, get("k")).outcome, Outcome::ok);
  // It fails once W=3 is out of reach (node 2 refuses) and the live replica answered, not at the
  // deadline, and says how many replicas hold the write: it is not undone. A delete is a write:
  // the same answer.
  std::vector<std::string> messages;
  for (auto strict : {put("k", "3"), del("k")}) {
    strict.w = 3;
    strict.sloppy_quorum = false;
    auto failed = call(0, strict);
    EXPECT_EQ(failed.outcome, Outcome::unavailable);
    EXPECT_EQ(failed.required, 3u);
    EXPECT_EQ(failed.acknowledged, 2u);
    EXPECT_LT(cluster.now_ms(), NodeOptions{}.request_timeout_ms);
    messages.push_back(failed.message);
  }
  EXPECT_EQ(messages[0], messages[1]);
}

TEST_F(NodeTest, a_read_that_waits_for_a_silent_replica_says_it_timed_out) {
  ASSERT_EQ(call(0, put("k", "1")).outcome, Outcome::ok);
  cluster.partition({0, 0, 1});  // node 2 is silent, as a hung process: no connection goes down
  auto read = get("k");
  read.r = 3;
  auto failed = call(0, read);
  EXPECT_EQ(failed.outcome, Outcome::unavailable);
  EXPECT_EQ(failed.required, 3u);
  EXPECT_EQ(failed.acknowledged, 2u);
  EXPECT_NE(failed.message.find("before the deadline"), std::string::npos) << failed.message;
  EXPECT_GE(cluster.now_ms(), NodeOptions{}.request_timeout_ms);
}

TEST_F(NodeTest, a_restarted_node_is_repaired_by_a_read) {
  cluster.crash(2);
  ASSERT_EQ(call(0, put("k", "\"missed\"")).outcome, Outcome::ok);
  cluster.restart(2);
  EXPECT_FALSE(cluster.stored(2, "k").has_value());
  auto r = call(0, get("k"));
  ASSERT_EQ(r.outcome, Outcome::ok);
  cluster.run_for(100);
  auto repaired = cluster.stored(2, "k");
  ASSERT_TRUE(repaired.has_value());
  ASSERT_EQ(repaired->siblings().size(), 1u);
  EXPECT_EQ(repaired->siblings()[0].value, "\"missed\"");
  EXPECT_GE(cluster.node(0).counters().read_repairs, 1u);
}

TEST_F(NodeTest, a_node_outside_the_preference_list_forwards) {
  // With N=1 only one node holds the key; asking the others must still work.
  auto w = put("solo", "\"x\"");
  w.n = 1;
  w.w = 1;
  ASSERT_EQ(call(0, w).outcome, Outcome::ok);
  for (size_t i = 0; i < 3; ++i) {
    auto r = get("solo");
    r.n = 1;
    r.r = 1;
    auto answer = call(i, r);
    ASSERT_EQ(answer.outcome, Outcome::ok) << i;
    EXPECT_EQ(answer.siblings[0].value, "\"x\"");
  }
  size_t holders = 0;
  for (size_t i = 0; i < 3; ++i) holders += cluster.stored(i, "solo").has_value();
  EXPECT_EQ(holders, 1u);
  uint64_t forwarded = 0;
  for (size_t i = 0; i < 3; ++i) forwarded += cluster.node(i).counters().forwarded;
  EXPECT_GE(forwarded, 2u);
}

// A forwarded write whose coordinator goes down after storing it is not coordinated again by the
// next replica: that would store the one write under two dots, and a client that read one and
// wrote back would leave the other as a stale sibling (caught on a five-host cluster by
// `minidynamo check`). It answers 503, indeterminate, and the write is stored once.
TEST(NodeForwarding, a_forwarded_write_whose_coordinator_fails_is_indeterminate_and_stored_once) {
  sim::ClusterOptions options;
  options.nodes = 4;
  sim::Cluster cluster{options};
  const std::string key = "k";
  auto walk = cluster.ring().preference_list(cluster.ring().partition_of_key(key), cluster.size());
  const size_t coordinator = walk[0], outsider = walk[2];
  cluster.set_slow(coordinator, 50);  // its replica write and its answer are still on the way when it crashes
  auto w = put(key, "\"once\"");
  w.n = 2;
  w.w = 2;
  auto handle = cluster.submit(outsider, w);
  while (cluster.stored_writes().empty() && cluster.now_ms() < 1000) cluster.run_for(1);
  ASSERT_EQ(cluster.stored_writes().size(), 1u);
  ASSERT_EQ(cluster.stored_writes()[0].node, coordinator);
  cluster.crash(coordinator);
  auto answer = cluster.await(handle);
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->outcome, Outcome::unavailable);
  EXPECT_NE(answer->message.find("indeterminate"), std::string::npos) << answer->message;
  cluster.restart(coordinator);
  cluster.set_slow(coordinator, 0);
  cluster.run_for(3000);
  EXPECT_EQ(cluster.stored_writes().size(), 1u);
  auto r = get(key);
  r.n = 2;
  r.r = 2;
  auto read = cluster.await(cluster.submit(outsider, r));
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(read->outcome, Outcome::ok) << read->message;
  ASSERT_EQ(read->siblings.size(), 1u);
  EXPECT_EQ(read->siblings[0].value, "\"once\"");
}

TEST_F(NodeTest, bad_parameters_and_tokens_are_bad_requests) {
  auto bad_n = put("k", "1");
  bad_n.n = 4;
  EXPECT_EQ(call(0, bad_n).outcome, Outcome::bad_request);
  auto bad_token = put("k", "1", "@@@");
  auto r = call(0, bad_token);
  EXPECT_EQ(r.outcome, Outcome::bad_request);
  EXPECT_NE(r.message.find("context token"), std::string::npos);
  EXPECT_EQ(call(0, put("", "1")).outcome, Outcome::bad_request);
}

TEST(NodeSiblingLimit, a_write_over_the_limit_is_refused_and_keeps_the_siblings) {
  sim::ClusterOptions options;
  options.node.siblings_max = 3;
  sim::Cluster cluster(options);
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(cluster.await(cluster.submit(0, put("hot", std::to_string(i))))->outcome, Outcome::ok);
  }
  auto refused = cluster.await(cluster.submit(0, put("hot", "4")));
  EXPECT_EQ(refused->outcome, Outcome::too_many_siblings);
  EXPECT_NE(refused->message.find("context"), std::string::npos);
  auto read = cluster.await(cluster.submit(1, get("hot")));
  EXPECT_EQ(read->siblings.size(), 3u);
  auto resolved = cluster.await(cluster.submit(0, put("hot", "\"merged\"", read->context_token)));
  EXPECT_EQ(resolved->outcome, Outcome::ok);
}

// A coordinator sends its write to the replicas while it syncs its own copy. If that copy then
// fails, the write is stored here again before the key's next write through this node, so the
// next version descends from it: no dot is made twice, and no counter is skipped (a gap would
// claim the failed write as seen, and the replicas would drop it).
TEST(NodeWrites, a_write_that_went_out_but_failed_here_is_stored_again_before_the_keys_next_write) {
  sim::Cluster cluster{sim::ClusterOptions{}};
  const std::string key = "k";
  const size_t coordinator = cluster.ring().preference_list(cluster.ring().partition_of_key(key), 3)[0];
  sim::DiskFaults full;
  full.full = true;
  cluster.set_disk_faults(coordinator, full);
  auto first = cluster.await(cluster.submit(coordinator, put(key, "\"a\"")));
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->outcome, Outcome::ok) << first->message;
  EXPECT_EQ(first->acknowledged, 2u);  // the two other replicas; its own copy failed
  EXPECT_FALSE(cluster.stored(coordinator, key).has_value());
  auto second = cluster.submit(coordinator, put(key, "\"b\""));  // blind: concurrent with "a"
  cluster.run_for(100);  // the restore is retried every tick while the disk is full
  EXPECT_FALSE(cluster.stored(coordinator, key).has_value());
  cluster.set_disk_faults(coordinator, sim::DiskFaults{});
  auto answer = cluster.await(second);
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->outcome, Outcome::ok) << answer->message;
  auto r = get(key);
  r.r = 3;
  auto read = cluster.await(cluster.submit((coordinator + 1) % 3, r));
  ASSERT_TRUE(read.has_value());
  ASSERT_EQ(read->outcome, Outcome::ok);
  std::vector<std::string> values;
  for (const auto& s : read->siblings) values.push_back(s.value);
  std::sort(values.begin(), values.end());
  EXPECT_EQ(values, (std::vector<std::string>{"\"a\"", "\"b\""}));
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cluster.node(i).counters().dot_collisions, 0u) << "n" << i;
}

}  // namespace
}  // namespace md::core
