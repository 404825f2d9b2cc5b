// Tombstone reaping, driven in virtual time (sim::Cluster): when a deleted key leaves the store,
// what keeps it, and what a key written again afterwards is numbered with.
#include <gtest/gtest.h>

#include "core/node.h"
#include "core/tombstone_reaper.h"
#include "core/object_codec.h"
#include "sim/cluster.h"

namespace md::core {
namespace {

constexpr uint64_t kGraceMs = 2000;

ClientRequest request(Op op, std::string key, std::string value = "", std::string context = "") {
  ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  r.value = std::move(value);
  if (!context.empty()) r.context_token = std::move(context);
  return r;
}

sim::ClusterOptions reaping(size_t nodes) {
  sim::ClusterOptions options;
  options.nodes = nodes;
  options.node.reaping.grace_ms = kGraceMs;
  options.node.reaping.interval_ms = 100;
  return options;
}

class Reaping : public ::testing::Test {
 protected:
  explicit Reaping(sim::ClusterOptions options = reaping(3)) : cluster(std::move(options)) {}

  ClientResponse call(size_t at, ClientRequest r, uint32_t w = 3) {
    r.w = w;
    auto response = cluster.await(cluster.submit(at, std::move(r)));
    EXPECT_TRUE(response.has_value());
    return response.value_or(ClientResponse{});  // no answer: the EXPECT above fails the test
  }
  // Writes `key` through node `at` and deletes it with the write's context.
  void write_and_delete(const std::string& key, size_t at = 0, uint32_t w = 3) {
    auto put = call(at, request(Op::put, key, "\"v\""), w);
    ASSERT_EQ(put.outcome, Outcome::ok) << put.message;
    auto del = call(at, request(Op::del, key, "", put.context_token), w);
    ASSERT_EQ(del.outcome, Outcome::ok) << del.message;
  }
  bool held_by_any(const std::vector<std::string>& keys) {
    for (size_t n = 0; n < cluster.size(); ++n) {
      for (const auto& k : keys) {
        if (cluster.stored(n, k)) return true;
      }
    }
    return false;
  }
  // Runs until no node holds any of `keys`, at most `limit_ms`; returns the time it took.
  uint64_t run_until_reaped(const std::vector<std::string>& keys, uint64_t limit_ms = 20'000) {
    uint64_t waited = 0;
    for (; held_by_any(keys) && waited < limit_ms; waited += 100) cluster.run_for(100);
    return waited;
  }
  // Keys of one partition.
  std::vector<std::string> keys_of_one_partition(size_t count) {
    std::vector<std::string> keys;
    const uint32_t p = cluster.ring().partition_of_key("k0");
    for (int i = 0; keys.size() < count; ++i) {
      if (cluster.ring().partition_of_key("k" + std::to_string(i)) == p) keys.push_back("k" + std::to_string(i));
    }
    return keys;
  }
  uint64_t stored_hash(size_t node, const std::string& key) { return object_hash(encode_object(*cluster.stored(node, key))); }

  sim::Cluster cluster;
};

TEST_F(Reaping, a_deleted_key_leaves_every_member_once_all_held_its_tombstone_for_the_grace_period) {
  std::vector<std::string> keys;
  for (int i = 0; i < 10; ++i) {
    keys.push_back("gone" + std::to_string(i));
    write_and_delete(keys.back(), static_cast<size_t>(i) % 3);
  }
  cluster.run_for(kGraceMs * 3 / 4);
  for (size_t n = 0; n < cluster.size(); ++n) {
    EXPECT_EQ(cluster.node(n).reaper().tombstones(), keys.size()) << "n" << n;
    for (const auto& k : keys) {
      auto object = cluster.stored(n, k);
      ASSERT_TRUE(object.has_value()) << k << " left n" << n << " before the grace period";
      EXPECT_TRUE(object->deleted());
    }
  }

  EXPECT_LT(run_until_reaped(keys), 20'000u) << "tombstones still held";
  for (size_t n = 0; n < cluster.size(); ++n) {
    EXPECT_EQ(cluster.node(n).reaper().tombstones(), 0u);
    EXPECT_EQ(cluster.node(n).counters().tombstones_reaped, keys.size());
    EXPECT_GE(cluster.node(n).dot_floor(), 2u);  // a write and its delete: counter 2 of some coordinator
  }
  EXPECT_EQ(cluster.reaped().size(), keys.size() * cluster.size());
  EXPECT_EQ(call(1, request(Op::get, keys[0])).outcome, Outcome::not_found);
}

TEST_F(Reaping, a_member_that_is_down_keeps_every_tombstone_until_it_is_back_and_holds_it_too) {
  auto put = call(0, request(Op::put, "k", "\"old\""));
  ASSERT_EQ(put.outcome, Outcome::ok);
  cluster.crash(2);  // keeps the live value on its disk
  auto del = call(0, request(Op::del, "k", "", put.context_token), 2);
  ASSERT_EQ(del.outcome, Outcome::ok) << del.message;

  cluster.run_for(kGraceMs * 3);
  for (size_t n : {0u, 1u}) {
    ASSERT_TRUE(cluster.stored(n, "k").has_value()) << "n" << n << " reaped while a member was down";
    EXPECT_EQ(cluster.node(n).counters().reap_rounds, 0u);
  }
  EXPECT_FALSE(cluster.stored(2, "k")->deleted());

  cluster.restart(2);  // its hint brings it the tombstone; its own grace period starts then
  EXPECT_LT(run_until_reaped({"k"}), 20'000u);
  EXPECT_EQ(call(2, request(Op::get, "k")).outcome, Outcome::not_found);
}

TEST_F(Reaping, a_member_finds_ready_only_tombstones_it_held_unchanged_for_the_grace_period_with_no_hint) {
  const auto keys = keys_of_one_partition(3);
  const std::string& plain = keys[0];   // deleted everywhere
  const std::string& hinted = keys[1];  // deleted while n2 was down: a hint for n2 is kept
  const std::string& fresh = keys[2];   // deleted just now
  write_and_delete(plain);
  cluster.crash(2);  // and so no round starts: every answer below is to a check sent by hand
  write_and_delete(hinted, 0, 2);
  const size_t holder = cluster.node(0).pending_hints()[2] != 0 ? 0 : 1;
  const auto other = static_cast<MemberIndex>(1 - holder);
  ASSERT_GE(cluster.node(holder).pending_hints()[2], 1u);
  cluster.run_for(kGraceMs + 100);
  write_and_delete(fresh, 0, 2);

  std::vector<ReapCheckReply> replies;
  cluster.observe_sends([&](size_t from, MemberIndex, const PeerMessage& m) {
    if (from == holder && std::holds_alternative<ReapCheckReply>(m)) replies.push_back(std::get<ReapCheckReply>(m));
  });
  auto ask = [&](uint64_t ring_version, uint64_t plain_hash) {
    replies.clear();
    ReapCheck check{77, ring_version, cluster.ring().partition_of_key(plain), keys,
                    {plain_hash, stored_hash(holder, hinted), stored_hash(holder, fresh)}};
    cluster.node(holder).on_peer_message(cluster.now_ms(), other, check);
    cluster.run_for(10);
    EXPECT_EQ(replies.size(), 1u);
    return replies.empty() ? std::vector<uint32_t>{99} : replies[0].ready;
  };
  EXPECT_EQ(ask(1, stored_hash(holder, plain)), std::vector<uint32_t>{0});
  EXPECT_EQ(ask(1, stored_hash(holder, plain) ^ 1), std::vector<uint32_t>{}) << "another tombstone than the one held";
  EXPECT_EQ(ask(2, stored_hash(holder, plain)), std::vector<uint32_t>{}) << "a check made under another ring";
}

TEST_F(Reaping, a_key_written_again_after_reaping_is_numbered_above_the_floor_which_a_restart_keeps) {
  std::string context;
  for (int i = 0; i < 3; ++i) {
    auto put = call(0, request(Op::put, "k", "\"v" + std::to_string(i) + "\"", context));
    ASSERT_EQ(put.outcome, Outcome::ok);
    context = put.context_token;
  }
  ASSERT_EQ(call(0, request(Op::del, "k", "", context)).outcome, Outcome::ok);  // node_5001's dot 4
  const VersionVector deleted = cluster.stored(0, "k")->context();
  EXPECT_LT(run_until_reaped({"k"}), 20'000u);
  const uint64_t floor = cluster.node(0).dot_floor();
  EXPECT_GE(floor, 4u);
  cluster.run_for(sim::ClusterOptions{}.flush_interval_ms);  // the removal, not synced, reaches the disk

  cluster.crash(0);
  cluster.restart(0);
  EXPECT_EQ(cluster.node(0).dot_floor(), floor);
  cluster.run_for(500);  // peers reconnect
  ASSERT_EQ(call(0, request(Op::put, "k", "\"again\"")).outcome, Outcome::ok);
  auto object = cluster.stored(0, "k");
  ASSERT_TRUE(object.has_value());
  ASSERT_EQ(object->siblings().size(), 1u);
  EXPECT_GT(object->siblings()[0].dot.counter, floor);
  EXPECT_FALSE(deleted.covers(object->siblings()[0].dot)) << "the new write's dot was one the delete had seen";
}

// The OS writes nothing back during the test: a removal stays unsynced until the next update.
class ReapingCrash : public Reaping {
 protected:
  static sim::ClusterOptions without_write_back() {
    auto options = reaping(3);
    options.flush_interval_ms = 600'000;
    return options;
  }
  ReapingCrash() : Reaping(without_write_back()) {}
};

TEST_F(ReapingCrash, a_removal_lost_in_a_crash_brings_the_tombstone_back_on_that_node_until_it_is_reaped_again) {
  write_and_delete("k");
  run_until_reaped({"k"});
  ASSERT_FALSE(held_by_any({"k"}));

  cluster.crash(0);  // its removal was not synced: the tombstone is back on node 0 alone
  cluster.restart(0);
  ASSERT_TRUE(cluster.stored(0, "k").has_value());
  EXPECT_FALSE(cluster.stored(1, "k") || cluster.stored(2, "k"));
  EXPECT_EQ(call(0, request(Op::get, "k")).outcome, Outcome::not_found);

  // Anti-entropy gives the others the tombstone again; a grace period later it is reaped again.
  EXPECT_LT(run_until_reaped({"k"}, 30'000), 30'000u);
  EXPECT_EQ(call(1, request(Op::get, "k")).outcome, Outcome::not_found);
}

// The reaper's own bookkeeping, without a cluster.
class Reaper : public ::testing::Test {
 protected:
  std::string tombstone(uint64_t deletes = 1) {
    DvvSet x;
    x.update({}, "n", false, "\"v\"");
    for (uint64_t i = 0; i < deletes; ++i) x.update(x.context(), "n", true, "");
    return encode_object(x);
  }
  // Partitions member `m` is the reaper of.
  std::vector<uint32_t> led_by(MemberIndex m) {
    std::vector<uint32_t> out;
    for (uint32_t p = 0; p < ring.partitions(); ++p) {
      if (ring.preference_list(p, 1)[0] == m) out.push_back(p);
    }
    return out;
  }
  std::optional<ReapCheck> start(uint64_t now_ms, std::function<bool(std::string_view)> blocked = {}) {
    if (!blocked) blocked = [](std::string_view) { return false; };
    return reaper.start_round(ring, now_ms, 9, 1, {1, 2}, now_ms + 1000, blocked);
  }

  Ring ring = *Ring::create({"a", "b", "c"}, 16);
  TombstoneReaper reaper{0, TombstoneReaperOptions{1000, 100, 2}};
};

TEST_F(Reaper, tracks_a_key_from_when_it_became_deleted_and_forgets_it_once_live_or_gone) {
  const uint32_t p = led_by(0)[0];
  const std::string t1 = tombstone(1), t2 = tombstone(2);
  reaper.stored(p, "k", t1, object_hash(t1), 100);
  EXPECT_FALSE(reaper.ripe(p, "k", object_hash(t1), 1099));
  EXPECT_TRUE(reaper.ripe(p, "k", object_hash(t1), 1100));
  EXPECT_EQ(reaper.counter(p, "k", object_hash(t1)), 2u);
  reaper.stored(p, "k", t2, object_hash(t2), 900);  // still deleted: the time stays
  EXPECT_FALSE(reaper.ripe(p, "k", object_hash(t1), 1100)) << "another tombstone than the one held now";
  EXPECT_TRUE(reaper.ripe(p, "k", object_hash(t2), 1100));
  EXPECT_EQ(reaper.counter(p, "k", object_hash(t2)), 3u);

  DvvSet written = *decode_object(t2);
  written.update(written.context(), "n", false, "\"back\"");
  const std::string back = encode_object(written);
  reaper.stored(p, "k", back, object_hash(back), 1200);  // live again: no longer tracked
  EXPECT_EQ(reaper.tombstones(), 0u);
  reaper.stored(p, "k", t2, object_hash(t2), 1300);  // deleted again: its grace starts again
  EXPECT_FALSE(reaper.ripe(p, "k", object_hash(t2), 2299));
  reaper.stored(p, "k", std::nullopt, 0, 2400);  // removed
  EXPECT_EQ(reaper.tombstones(), 0u);
  reaper.stored(kHintPartition, "hint", t1, object_hash(t1), 0);  // the hint store is not data
  EXPECT_EQ(reaper.tombstones(), 0u);
}

TEST_F(Reaper, a_round_takes_ripe_unblocked_tombstones_of_one_partition_it_leads_at_most_batch_max) {
  const uint32_t mine = led_by(0)[0], theirs = led_by(1)[0];
  const std::string t = tombstone();
  for (const char* k : {"a", "b", "c", "d"}) reaper.stored(mine, k, t, object_hash(t), 0);
  reaper.stored(theirs, "x", t, object_hash(t), 0);
  EXPECT_FALSE(start(999).has_value()) << "nothing is ripe yet";
  auto check = start(2000, [](std::string_view k) { return k == "a"; });
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->partition, mine);
  EXPECT_EQ(check->keys, (std::vector<std::string>{"b", "c"}));  // "a" is blocked; two per round
  EXPECT_EQ(check->ring_version, 1u);
  EXPECT_FALSE(start(5000).has_value()) << "one round at a time";

  EXPECT_FALSE(reaper.on_reply(1, ReapCheckReply{9, {0, 1}}).has_value()) << "member 2 has not answered";
  EXPECT_FALSE(reaper.on_reply(1, ReapCheckReply{9, {0}}).has_value()) << "one answer per member";
  auto reap = reaper.on_reply(2, ReapCheckReply{9, {1}});
  ASSERT_TRUE(reap.has_value());
  EXPECT_EQ(reap->keys, std::vector<std::string>{"c"});  // the only one both found ready
  EXPECT_FALSE(reaper.round_under_way());
}

TEST_F(Reaper, a_round_looks_at_no_more_than_scan_max_tombstones_and_the_next_goes_on_from_there) {
  TombstoneReaper bounded{0, TombstoneReaperOptions{1000, 100, 256, 3}};
  const uint32_t mine = led_by(0)[0];
  const std::string t = tombstone();
  for (const char* k : {"a", "b", "c"}) bounded.stored(mine, k, t, object_hash(t), 1000);  // ripe at 2000
  for (const char* k : {"d", "e"}) bounded.stored(mine, k, t, object_hash(t), 0);
  auto never = [](std::string_view) { return false; };
  EXPECT_FALSE(bounded.start_round(ring, 1500, 9, 1, {1}, 5000, never).has_value()) << "a, b, c looked at: none ripe";
  auto check = bounded.start_round(ring, 1600, 9, 1, {1}, 5000, never);
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->keys, (std::vector<std::string>{"d", "e"}));
  EXPECT_TRUE(bounded.on_reply(1, ReapCheckReply{9, {}}).has_value());
  check = bounded.start_round(ring, 2100, 10, 1, {1}, 5000, never);  // from the first key again
  ASSERT_TRUE(check.has_value());
  EXPECT_EQ(check->keys, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(Reaper, a_malformed_or_late_answer_a_down_member_or_the_deadline_ends_the_round_with_nothing_removed) {
  const uint32_t mine = led_by(0)[0];
  const std::string t = tombstone();
  reaper.stored(mine, "a", t, object_hash(t), 0);
  auto fresh_round = [&](uint64_t now_ms) {
    EXPECT_TRUE(start(now_ms).has_value());
    EXPECT_TRUE(reaper.round_under_way());
  };
  fresh_round(2000);
  EXPECT_FALSE(reaper.on_reply(1, ReapCheckReply{8, {0}}).has_value());  // another round's id: ignored
  EXPECT_TRUE(reaper.round_under_way());
  EXPECT_FALSE(reaper.on_reply(1, ReapCheckReply{9, {5}}).has_value());  // an index it was not asked about
  EXPECT_FALSE(reaper.round_under_way());
  fresh_round(3000);
  EXPECT_FALSE(reaper.on_reply(1, ReapCheckReply{9, {0, 0}}).has_value());  // not ascending
  EXPECT_FALSE(reaper.round_under_way());
  fresh_round(4000);
  reaper.on_peer_down(2);
  EXPECT_FALSE(reaper.round_under_way());
  fresh_round(5000);
  reaper.on_tick(5999);
  EXPECT_TRUE(reaper.round_under_way());
  reaper.on_tick(6000);
  EXPECT_FALSE(reaper.round_under_way());
  fresh_round(7000);
  reaper.on_ring_changed();
  EXPECT_FALSE(reaper.round_under_way());
}

}  // namespace
}  // namespace md::core
