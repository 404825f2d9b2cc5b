#include "core/quorum.h"

#include <gtest/gtest.h>

namespace md::core {
namespace {

TEST(Quorum, defaults_fill_what_the_client_left_out_and_clamp_to_n) {
  Quorum defaults{3, 2, 2};
  auto q = resolve_quorum(std::nullopt, std::nullopt, std::nullopt, defaults, 3);
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->n, 3u);
  EXPECT_EQ(q->r, 2u);
  q = resolve_quorum(1, std::nullopt, std::nullopt, defaults, 3);
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->r, 1u);
  EXPECT_EQ(q->w, 1u);
  q = resolve_quorum(std::nullopt, std::nullopt, std::nullopt, defaults, 1);  // a one-node cluster
  ASSERT_TRUE(q.is_ok());
  EXPECT_EQ(q->n, 1u);
}

TEST(Quorum, out_of_range_values_name_the_parameter) {
  Quorum d{3, 2, 2};
  auto expect_error = [&](Result<Quorum> r, const std::string& name) {
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), Code::invalid_argument);
    EXPECT_EQ(r.status().message().rfind(name + " must be", 0), 0u) << r.status().message();
  };
  expect_error(resolve_quorum(4, std::nullopt, std::nullopt, d, 3), "N");
  expect_error(resolve_quorum(0, std::nullopt, std::nullopt, d, 3), "N");
  expect_error(resolve_quorum(2, 3, std::nullopt, d, 3), "R");
  expect_error(resolve_quorum(3, 0, std::nullopt, d, 3), "R");
  expect_error(resolve_quorum(3, 2, 4, d, 3), "W");
  expect_error(resolve_quorum(3, 2, -1, d, 3), "W");
}

}  // namespace
}  // namespace md::core
