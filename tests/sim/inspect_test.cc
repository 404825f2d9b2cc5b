// The key inspector's request (Op::inspect) in a simulated cluster: every replica's own copy, in
// preference-list order, beside what a read at R would answer, and nothing repaired.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/object_codec.h"
#include "sim/cluster.h"

namespace md::sim {
namespace {

using core::ReplicaCopy;

core::ClientRequest request(core::Op op, std::string key, std::string value = {}) {
  core::ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  r.value = std::move(value);
  return r;
}

std::vector<std::string> values(const std::string& object) {
  std::vector<std::string> out;
  auto decoded = core::decode_object(object);
  EXPECT_TRUE(decoded.is_ok());
  if (decoded.is_ok()) {
    for (const auto& s : decoded->siblings()) out.push_back(s.value);
  }
  return out;
}

TEST(Inspect, shows_each_replicas_own_copy_and_the_read_at_r_and_repairs_nothing) {
  ClusterOptions options;
  options.nodes = 3;
  options.node.anti_entropy.interval_ms = 0;  // only the inspect could make the copies agree
  Cluster cluster(options);
  auto run = [&](size_t at, const core::ClientRequest& r) {
    auto answer = cluster.await(cluster.submit(at, r));
    EXPECT_TRUE(answer.has_value());
    return answer.value_or(core::ClientResponse{});
  };
  auto old_write = request(core::Op::put, "k", "\"old\"");
  old_write.w = 3;
  const auto first = run(0, old_write);
  ASSERT_EQ(first.outcome, core::Outcome::ok);
  auto new_write = request(core::Op::put, "k", "\"new\"");
  new_write.context_token = first.context_token;  // supersedes "old"
  new_write.w = 3;
  ASSERT_EQ(run(0, new_write).outcome, core::Outcome::ok);
  const auto& ring = cluster.ring();
  auto pref = ring.preference_list(ring.partition_of_key("k"), 3);
  const core::MemberIndex lost = pref[2];
  cluster.crash(lost);  // one replica lost its copy
  cluster.erase_from_disk(lost, "k");
  cluster.restart(lost);
  cluster.run_for(2000);

  auto inspect = request(core::Op::inspect, "k");
  inspect.r = 3;
  const auto seen = run(1, inspect);
  ASSERT_EQ(seen.outcome, core::Outcome::ok);
  ASSERT_EQ(seen.replicas.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const auto& copy = seen.replicas[i];
    EXPECT_EQ(copy.member, pref[i]);
    if (copy.member == lost) {
      EXPECT_EQ(copy.state, ReplicaCopy::State::missing);
    } else {
      ASSERT_EQ(copy.state, ReplicaCopy::State::copy);
      EXPECT_EQ(values(copy.object), std::vector<std::string>{"\"new\""}) << copy.member;
    }
  }
  // The read at R=3 merges all three: "new" (which superseded "old"), one sibling, a context.
  EXPECT_EQ(seen.acknowledged, 3u);
  EXPECT_EQ(seen.required, 3u);
  ASSERT_EQ(seen.siblings.size(), 1u);
  EXPECT_EQ(seen.siblings[0].value, "\"new\"");
  EXPECT_FALSE(seen.context_token.empty());
  // Nothing was repaired: the replica still has nothing (a GET at R=3 would have repaired it).
  cluster.run_for(2000);
  EXPECT_FALSE(cluster.stored(lost, "k").has_value());
  auto get = request(core::Op::get, "k");
  get.r = 3;
  ASSERT_EQ(run(1, get).outcome, core::Outcome::ok);
  cluster.run_for(2000);
  EXPECT_TRUE(cluster.stored(lost, "k").has_value()) << "the GET should have repaired it, the inspect not";

  // A key no replica has: every copy missing, and the read finds nothing.
  const auto absent = run(0, request(core::Op::inspect, "nothing here"));
  for (const auto& copy : absent.replicas) EXPECT_EQ(copy.state, ReplicaCopy::State::missing);
  EXPECT_TRUE(absent.siblings.empty());
  EXPECT_EQ(absent.acknowledged, 2u);  // R = the default 2

  // A replica that is down is shown unreachable, and a read at R=3 could not have answered.
  cluster.crash(lost);
  const auto partial = run(lost == 0 ? 1 : 0, inspect);
  auto at = std::find_if(partial.replicas.begin(), partial.replicas.end(), [&](auto& c) { return c.member == lost; });
  ASSERT_NE(at, partial.replicas.end());
  EXPECT_EQ(at->state, ReplicaCopy::State::unreachable);
  EXPECT_EQ(partial.acknowledged, 2u);
  EXPECT_EQ(partial.required, 3u);
}

}  // namespace
}  // namespace md::sim
