#include "core/ring.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "core/claim.h"
#include "core/key_hash.h"

namespace md::core {
namespace {

std::vector<std::string> ids(size_t k) {
  std::vector<std::string> out;
  for (size_t i = 0; i < k; ++i) out.push_back("node_" + std::to_string(5001 + i));
  return out;
}

TEST(Ring, partition_count_must_be_a_power_of_two) {
  EXPECT_FALSE(Ring::create(ids(3), 100).is_ok());
  EXPECT_FALSE(Ring::create(ids(3), 0).is_ok());
  EXPECT_FALSE(Ring::create(ids(3), 131072).is_ok());
  EXPECT_FALSE(Ring::create({}, 64).is_ok());
  EXPECT_TRUE(Ring::create(ids(3), 64).is_ok());
}

TEST(Ring, partition_is_the_top_bits_of_the_hash) {
  auto ring = *Ring::create(ids(3), 256);
  EXPECT_EQ(ring.partition_of(0), 0u);
  EXPECT_EQ(ring.partition_of(~uint64_t{0}), 255u);
  EXPECT_EQ(ring.partition_of(uint64_t{1} << 56), 1u);
  EXPECT_EQ(ring.partition_of((uint64_t{0x80} << 56) | 12345), 128u);
}

TEST(Ring, every_preference_list_has_n_distinct_nodes) {
  for (size_t k : {1, 2, 3, 5, 8, 17, 64}) {
    for (uint32_t q : {64u, 256u, 1024u}) {
      auto ring = *Ring::create(ids(k), q);
      for (uint32_t p = 0; p < q; ++p) {
        for (size_t n = 1; n <= k; ++n) {
          auto list = ring.preference_list(p, n);
          std::set<MemberIndex> distinct(list.begin(), list.end());
          ASSERT_EQ(distinct.size(), n) << "k=" << k << " q=" << q << " p=" << p;
          ASSERT_EQ(list[0], ring.owner(p));
        }
      }
    }
  }
}

TEST(Ring, preference_list_walks_clockwise_from_the_partition) {
  auto ring = *Ring::create(ids(4), 64);
  // First claim deals round robin, so walking from p meets p's owner, then the next ones in order.
  auto list = ring.preference_list(5, 3);
  EXPECT_EQ(list[0], ring.owner(5));
  EXPECT_EQ(list[1], ring.owner(6));
  EXPECT_EQ(list[2], ring.owner(7));
}

TEST(Ring, same_inputs_give_the_same_ring_in_any_member_order) {
  auto a = ids(7);
  auto b = a;
  std::reverse(b.begin(), b.end());
  auto ra = *Ring::create(a, 256);
  auto rb = *Ring::create(b, 256);
  EXPECT_EQ(ra.owner_ids(), rb.owner_ids());
  // Pinned placement of a few keys: a change here moves data between releases.
  EXPECT_EQ(ra.partition_of_key("user123"), rb.partition_of_key("user123"));
  EXPECT_EQ(key_hash(""), 0x2D06800538D394C2ull);  // XXH3-64 of the empty string
  EXPECT_EQ(ra.partition_of_key(""), 0x2Du);
}

// The walks are derived one from the next (ring.cc); they must equal the definition: from the
// partition clockwise, each member at its first partition, then members that own none, in order.
RC_GTEST_PROP(Ring, every_walk_is_the_clockwise_order_of_first_ownership, ()) {
  const auto log2_q = *rc::gen::inRange<uint32_t>(1, 9);
  const auto q = uint32_t{1} << log2_q;
  const auto k = *rc::gen::inRange<size_t>(1, 12);
  const auto owners = *rc::gen::container<std::vector<MemberIndex>>(q, rc::gen::inRange<MemberIndex>(0, k));
  auto ring = Ring::from_indexes(ids(k), owners);
  RC_ASSERT(ring.is_ok());
  for (uint32_t p = 0; p < q; ++p) {
    std::vector<MemberIndex> expected;
    for (uint32_t step = 0; step < q; ++step) {
      MemberIndex m = owners[(p + step) % q];
      if (std::find(expected.begin(), expected.end(), m) == expected.end()) expected.push_back(m);
    }
    // Members that own nothing are in no walk.
    RC_ASSERT(ring->serving() == expected.size());
    auto walk = ring->walk(p);
    RC_ASSERT(std::vector<MemberIndex>(walk.begin(), walk.end()) == expected);
  }
}

// A random zone layout: k members over up to 5 zones, some members perhaps in none ("", which
// places like one more zone).
std::vector<std::string> random_zones(size_t k) {
  const auto names = *rc::gen::inRange<size_t>(1, 6);
  auto zone = rc::gen::map(rc::gen::inRange<size_t>(0, names + 1),
                           [](size_t z) { return z == 0 ? std::string() : "zone" + std::to_string(z); });
  return *rc::gen::container<std::vector<std::string>>(k, zone);
}

size_t distinct(const std::vector<std::string>& zones) { return std::set<std::string>(zones.begin(), zones.end()).size(); }

// Zones reorder each plain walk into rounds: the first member met of each zone, then the second of
// each, and so on, in walk order within a round. So the first n of any walk span min(n, zones)
// zones, the owner stays first, and every member is in every walk once.
RC_GTEST_PROP(Ring, zones_spread_every_preference_list_over_as_many_zones_as_exist, ()) {
  const auto q = uint32_t{1} << *rc::gen::inRange<uint32_t>(1, 8);
  const auto k = *rc::gen::inRange<size_t>(1, 14);
  const auto owners = *rc::gen::container<std::vector<MemberIndex>>(q, rc::gen::inRange<MemberIndex>(0, k));
  const auto zones = random_zones(k);
  auto plain = Ring::from_indexes(ids(k), owners);
  auto zoned = Ring::from_indexes(ids(k), owners, zones);
  RC_ASSERT(plain.is_ok() && zoned.is_ok());
  // Walks hold the members that own partitions, and span their zones.
  const size_t s = plain->serving();
  std::vector<std::string> serving_zones;
  for (MemberIndex m = 0; m < k; ++m) {
    if (std::find(owners.begin(), owners.end(), m) != owners.end()) serving_zones.push_back(zones[m]);
  }
  RC_ASSERT(serving_zones.size() == s && zoned->serving() == s);
  const size_t zone_count = distinct(serving_zones);
  for (uint32_t p = 0; p < q; ++p) {
    auto walk = plain->walk(p);
    std::map<std::string, size_t> met;
    std::vector<std::pair<size_t, MemberIndex>> rounds;  // (round, member) in walk order
    for (MemberIndex m : walk) rounds.emplace_back(met[zones[m]]++, m);
    std::stable_sort(rounds.begin(), rounds.end(), [](auto& a, auto& b) { return a.first < b.first; });
    auto list = zoned->walk(p);
    for (size_t i = 0; i < s; ++i) RC_ASSERT(list[i] == rounds[i].second);
    RC_ASSERT(list[0] == owners[p]);
    for (size_t n = 1; n <= s; ++n) {
      std::set<std::string> spanned;
      for (size_t i = 0; i < n; ++i) spanned.insert(zones[list[i]]);
      RC_ASSERT(spanned.size() == std::min(n, zone_count));
    }
  }
}

// What the zones are for: with N >= 2 replicas and two zones or more, no zone holds every replica
// of any key, so losing a whole zone loses none (with N >= the number of zones, every zone has one).
RC_GTEST_PROP(Ring, losing_a_whole_zone_loses_no_key, ()) {
  const auto k = *rc::gen::inRange<size_t>(2, 14);
  auto zones = random_zones(k);
  if (distinct(zones) < 2) zones.back() = zones.front() + "_other";
  auto ring = Ring::from_owners(ids(k), claim({}, ids(k), 64));
  RC_ASSERT(ring.is_ok());
  auto zoned = Ring::from_indexes(ids(k), [&] {
    std::vector<MemberIndex> owners;
    for (uint32_t p = 0; p < 64; ++p) owners.push_back(ring->owner(p));
    return owners;
  }(), zones);
  RC_ASSERT(zoned.is_ok());
  const auto n = *rc::gen::inRange<size_t>(2, k + 1);
  for (const auto& lost : std::set<std::string>(zones.begin(), zones.end())) {
    for (uint32_t p = 0; p < 64; ++p) {
      auto list = zoned->preference_list(p, n);
      RC_ASSERT(std::any_of(list.begin(), list.end(), [&](MemberIndex m) { return zones[m] != lost; }));
      if (n >= distinct(zones)) {
        RC_ASSERT(std::any_of(list.begin(), list.end(), [&](MemberIndex m) { return zones[m] == lost; }));
      }
    }
  }
}

TEST(Ring, one_zone_or_none_places_as_the_plain_walk) {
  auto owners = claim({}, ids(5), 64);
  auto plain = Ring::from_owners(ids(5), owners);
  ASSERT_TRUE(plain.is_ok());
  std::vector<MemberIndex> indexes;
  for (uint32_t p = 0; p < 64; ++p) indexes.push_back(plain->owner(p));
  auto one = Ring::from_indexes(ids(5), indexes, std::vector<std::string>(5, "only"));
  ASSERT_TRUE(one.is_ok());
  for (uint32_t p = 0; p < 64; ++p) {
    auto a = plain->preference_list(p, 5), b = one->preference_list(p, 5);
    EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin())) << p;
  }
  EXPECT_FALSE(Ring::from_indexes(ids(5), indexes, {"a", "b"}).is_ok());  // one zone per member
}

TEST(Ring, a_hostile_ring_is_refused_or_built_fast) {
  // One member owns every partition but the last: the walks used to take Q^2 steps.
  std::vector<MemberIndex> owners(kPartitionsMax, 0);
  owners.back() = 1;
  auto ring = Ring::from_indexes(ids(2), owners);
  ASSERT_TRUE(ring.is_ok());
  EXPECT_EQ(ring->preference_list(0, 2)[1], 1u);
  EXPECT_FALSE(Ring::from_indexes(ids(kMembersMax + 1), {0, 1}).is_ok());
}

TEST(Ring, from_owners_rejects_unknown_owners) {
  EXPECT_FALSE(Ring::from_owners(ids(2), std::vector<std::string>(64, "stranger")).is_ok());
  EXPECT_FALSE(Ring::from_owners({"a", "a"}, std::vector<std::string>(64, "a")).is_ok());
}

TEST(Ring, keys_spread_over_partitions) {
  auto ring = *Ring::create(ids(3), 256);
  std::map<uint32_t, int> hits;
  for (int i = 0; i < 256 * 200; ++i) ++hits[ring.partition_of_key("key" + std::to_string(i))];
  EXPECT_EQ(hits.size(), 256u);
  for (const auto& [p, n] : hits) {
    EXPECT_GT(n, 100) << p;
    EXPECT_LT(n, 300) << p;
  }
}

}  // namespace
}  // namespace md::core
