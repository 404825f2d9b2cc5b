#include "security/failure_limiter.h"

#include <gtest/gtest.h>

namespace md::security {
namespace {

TEST(FailureLimiter, an_address_fails_a_burst_then_waits_for_each_more_attempt) {
  FailureLimiter limiter({3, 1000, 100});
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.wait_ms("10.0.0.1", 0), 0u);
    limiter.failed("10.0.0.1", 0);
  }
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 0), 1000u);
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 400), 600u);
  EXPECT_EQ(limiter.wait_ms("10.0.0.2", 400), 0u);  // other addresses are not held back
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 1000), 0u);  // one attempt repaid...
  limiter.failed("10.0.0.1", 1000);
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 1500), 500u);  // ...and spent again
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 4000), 0u);
  limiter.failed("10.0.0.1", 4000);
  limiter.failed("10.0.0.1", 4000);
  EXPECT_EQ(limiter.wait_ms("10.0.0.1", 4000), 0u);  // 3 s repaid all but one: two more failures fit
}

TEST(FailureLimiter, memory_is_bounded_and_forgets_addresses_that_owe_nothing_first) {
  FailureLimiter limiter({2, 1000, 10});
  for (int i = 0; i < 3; ++i) limiter.failed("held", 0);
  for (int i = 0; i < 9; ++i) limiter.failed("a" + std::to_string(i), 0);
  EXPECT_EQ(limiter.addresses(), 10u);
  limiter.failed("b", 1500);  // every "a" has repaid its one failure by now; "held" owes two
  EXPECT_LE(limiter.addresses(), 10u);
  EXPECT_GT(limiter.wait_ms("held", 1500), 0u);
  limiter.failed("c", 1500);
  for (int i = 0; i < 20; ++i) limiter.failed("d" + std::to_string(i), 1500);
  EXPECT_LE(limiter.addresses(), 10u);
}

}  // namespace
}  // namespace md::security
