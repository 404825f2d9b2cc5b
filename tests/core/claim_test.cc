#include "core/claim.h"

#include <gtest/gtest.h>

#include <map>

namespace md::core {
namespace {

std::vector<std::string> ids(size_t k) {
  std::vector<std::string> out;
  for (size_t i = 0; i < k; ++i) out.push_back("n" + std::to_string(1000 + i));
  return out;
}

void expect_balanced(const std::vector<std::string>& owners, size_t k, uint32_t q) {
  std::map<std::string, uint32_t> count;
  for (const auto& o : owners) ++count[o];
  ASSERT_EQ(count.size(), std::min<size_t>(k, q));
  for (const auto& [id, n] : count) {
    EXPECT_GE(n, q / k) << id;
    EXPECT_LE(n, (q + k - 1) / k) << id;
  }
}

TEST(Claim, first_claim_is_balanced_within_one_for_1_to_64_nodes) {
  for (uint32_t q : {64u, 256u, 1024u}) {
    for (size_t k = 1; k <= 64; ++k) expect_balanced(claim({}, ids(k), q), k, q);
  }
}

TEST(Claim, joins_stay_balanced_and_move_partitions_only_to_the_new_node) {
  for (uint32_t q : {64u, 256u, 1024u}) {
    auto owners = claim({}, ids(1), q);
    for (size_t k = 1; k < 64; ++k) {
      auto next = claim(owners, ids(k + 1), q);
      expect_balanced(next, k + 1, q);
      const std::string joiner = ids(k + 1).back();
      uint32_t moved = 0;
      for (uint32_t p = 0; p < q; ++p) {
        if (next[p] == owners[p]) continue;
        ++moved;
        ASSERT_EQ(next[p], joiner) << "partition " << p << " moved between old nodes (q=" << q << ", k=" << k << ")";
      }
      EXPECT_LE(moved, (q + k) / (k + 1) + 1) << "q=" << q << " k=" << k;
      owners = next;
    }
  }
}

TEST(Claim, a_leave_moves_only_the_leavers_partitions) {
  for (uint32_t q : {64u, 256u, 1024u}) {
    for (size_t k = 2; k <= 64; k += 7) {
      auto members = ids(k);
      auto owners = claim({}, members, q);
      const std::string leaver = members[k / 2];
      members.erase(members.begin() + static_cast<long>(k / 2));
      auto next = claim(owners, members, q);
      expect_balanced(next, k - 1, q);
      for (uint32_t p = 0; p < q; ++p) {
        if (owners[p] != leaver) {
          EXPECT_EQ(next[p], owners[p]) << "q=" << q << " k=" << k << " p=" << p;
        }
      }
    }
  }
}

TEST(Claim, is_deterministic_whatever_the_member_order) {
  auto members = ids(9);
  auto owners = claim({}, ids(5), 256);
  auto a = claim(owners, members, 256);
  std::reverse(members.begin(), members.end());
  auto b = claim(owners, members, 256);
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace md::core
