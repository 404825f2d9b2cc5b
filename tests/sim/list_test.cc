// Key listing (Op::list, core/key_lister.h) in a simulated cluster: pages of every live key in
// order, merged across replicas, with tombstoned keys left out and missing partitions refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <set>

#include "sim/cluster.h"

namespace md::sim {
namespace {

core::ClientRequest write(core::Op op, std::string key, std::string value = {}) {
  core::ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

core::ClientRequest list(std::string prefix, uint32_t limit, std::optional<std::string> cursor = std::nullopt) {
  core::ClientRequest r;
  r.op = core::Op::list;
  r.key = std::move(prefix);
  r.limit = limit;
  r.cursor = std::move(cursor);
  return r;
}

std::string key(const char* prefix, int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%s%03d", prefix, i);
  return buffer;
}

class List : public ::testing::Test {
 protected:
  explicit List(size_t nodes = 5) : cluster(options(nodes)) {}
  static ClusterOptions options(size_t nodes) {
    ClusterOptions o;
    o.nodes = nodes;
    // Replicas differ where a test makes them differ: no anti-entropy, and no hints for the
    // replicas that are down (fallbacks refuse them), which would bring them up to date.
    o.node.anti_entropy.interval_ms = 0;
    o.node.hints_max = 0;
    return o;
  }
  core::ClientResponse call(size_t at, core::ClientRequest request) {
    auto answer = cluster.await(cluster.submit(at, std::move(request)));
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(core::ClientResponse{});  // no answer: the EXPECT above fails the test
  }
  // Every page from node `at`, `limit` keys at a time, until the cursor says there are no more.
  std::vector<std::string> list_all(size_t at, const std::string& prefix, uint32_t limit) {
    std::vector<std::string> keys;
    std::optional<std::string> cursor;
    for (int page = 0; page < 1000; ++page) {
      auto r = call(at, list(prefix, limit, cursor));
      EXPECT_EQ(r.outcome, core::Outcome::ok) << r.message;
      EXPECT_LE(r.keys.size(), limit);
      keys.insert(keys.end(), r.keys.begin(), r.keys.end());
      if (!r.next_cursor || r.outcome != core::Outcome::ok) return keys;
      EXPECT_TRUE(!cursor || *r.next_cursor > *cursor) << "the cursor must move forward";
      cursor = r.next_cursor;
    }
    ADD_FAILURE() << "the listing never ended";
    return keys;
  }
  Cluster cluster;
};

TEST_F(List, pages_through_every_live_key_with_the_prefix_in_order_from_any_node) {
  std::set<std::string> live;
  for (int i = 0; i < 120; ++i) {
    ASSERT_EQ(call(i % 5, write(core::Op::put, key("user/", i), "1")).outcome, core::Outcome::ok);
    live.insert(key("user/", i));
  }
  for (int i = 0; i < 20; ++i) ASSERT_EQ(call(0, write(core::Op::put, key("other/", i), "2")).outcome, core::Outcome::ok);
  for (int i = 0; i < 120; i += 7) {
    ASSERT_EQ(call(1, write(core::Op::del, key("user/", i))).outcome, core::Outcome::ok);
    live.erase(key("user/", i));
  }
  cluster.run_for(500);
  const std::vector<std::string> expected(live.begin(), live.end());
  for (uint32_t limit : {1u, 7u, 50u, 1000u}) {
    for (size_t at : {0u, 3u}) EXPECT_EQ(list_all(at, "user/", limit), expected) << "limit " << limit << " at " << at;
  }
  EXPECT_EQ(list_all(2, "user/00", 4).size(), 8u);  // user/000..009 but 000 and 007 deleted
  EXPECT_EQ(list_all(2, "", 30).size(), expected.size() + 20);
  EXPECT_TRUE(list_all(4, "nobody/", 10).empty());
  // A key equal to the prefix is its own first key.
  ASSERT_EQ(call(0, write(core::Op::put, "user/", "3")).outcome, core::Outcome::ok);
  EXPECT_EQ(list_all(1, "user/", 5).front(), "user/");
}

TEST_F(List, a_run_of_deleted_keys_costs_rounds_not_empty_pages) {
  for (int i = 0; i < 40; ++i) ASSERT_EQ(call(i % 5, write(core::Op::put, key("k", i), "1")).outcome, core::Outcome::ok);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(call(i % 5, write(core::Op::del, key("k", i))).outcome, core::Outcome::ok);
  cluster.run_for(500);
  auto first = call(2, list("k", 4));
  ASSERT_EQ(first.outcome, core::Outcome::ok) << first.message;
  EXPECT_EQ(first.keys, (std::vector<std::string>{"k030", "k031", "k032", "k033"}));
  EXPECT_EQ(first.next_cursor, "k033");
}

TEST_F(List, a_key_on_one_replica_is_listed_and_a_key_deleted_on_one_replica_is_not) {
  const auto& ring = cluster.ring();
  auto replicas = [&](const std::string& k) { return ring.preference_list(ring.partition_of_key(k), 3); };
  // "lonely": written to all three, then lost by two of them.
  auto w = write(core::Op::put, "lonely", "1");
  w.w = 3;
  ASSERT_EQ(call(0, w).outcome, core::Outcome::ok);
  auto lonely = replicas("lonely");
  for (size_t i = 1; i < 3; ++i) {
    cluster.crash(lonely[i]);
    cluster.erase_from_disk(lonely[i], "lonely");
    cluster.restart(lonely[i]);
  }
  // "gone": written to all three, then deleted while two replicas were down (strict W=1: no
  // fallback takes a hint), so only one holds the tombstone that supersedes the value the other
  // two still hold.
  w = write(core::Op::put, "gone", "1");
  w.w = 3;
  const auto put = call(0, w);
  ASSERT_EQ(put.outcome, core::Outcome::ok);
  auto gone = replicas("gone");
  cluster.crash(gone[1]);
  cluster.crash(gone[2]);
  cluster.run_for(1000);  // the others see them down
  auto del = write(core::Op::del, "gone");
  del.context_token = put.context_token;
  del.w = 1;
  del.sloppy_quorum = false;
  ASSERT_EQ(call(gone[0], del).outcome, core::Outcome::ok);
  cluster.restart(gone[1]);
  cluster.restart(gone[2]);
  cluster.run_for(1000);
  ASSERT_TRUE(cluster.stored(gone[1], "gone").has_value());
  EXPECT_FALSE(cluster.stored(gone[1], "gone")->deleted());  // the stale copy is still there

  EXPECT_EQ(list_all(gone[1], "", 10), std::vector<std::string>{"lonely"});
}

TEST_F(List, a_partition_with_no_replica_answering_makes_the_listing_unavailable) {
  ASSERT_EQ(call(0, write(core::Op::put, "k", "1")).outcome, core::Outcome::ok);
  cluster.crash(4);
  cluster.run_for(1000);
  auto one_copy = list("", 10);
  one_copy.n = 1;  // each partition has one replica: node 4's have none now
  auto r = call(0, one_copy);
  EXPECT_EQ(r.outcome, core::Outcome::unavailable);
  EXPECT_NE(r.message.find("no replica of partition"), std::string::npos) << r.message;
  EXPECT_EQ(call(0, list("", 10)).outcome, core::Outcome::ok);  // N=3: every partition has another
}

TEST_F(List, limits_outside_1_to_the_maximum_and_a_bad_n_are_refused) {
  for (uint32_t limit : {0u, core::kListLimitMax + 1}) {
    auto r = call(0, list("", limit));
    EXPECT_EQ(r.outcome, core::Outcome::bad_request);
    EXPECT_NE(r.message.find("limit must be 1 to"), std::string::npos) << r.message;
  }
  auto bad_n = list("", 10);
  bad_n.n = 9;
  EXPECT_EQ(call(0, bad_n).outcome, core::Outcome::bad_request);
}

}  // namespace
}  // namespace md::sim
