#include "core/failure_detector.h"

#include <gtest/gtest.h>

namespace md::core {
namespace {

PhiAccrualDetector steady(uint64_t every_ms, int beats, uint64_t* last) {
  PhiAccrualDetector d{FailureDetectorOptions{}};
  for (int i = 0; i < beats; ++i) d.heartbeat(*last = 1000 + i * every_ms);
  return d;
}

TEST(PhiAccrualDetector, a_peer_is_presumed_up_until_heartbeats_are_due) {
  PhiAccrualDetector d{FailureDetectorOptions{}};
  EXPECT_EQ(d.phi(0), 0);
  EXPECT_EQ(d.phi(1'000'000), 0);
}

TEST(PhiAccrualDetector, phi_grows_with_silence_and_crosses_the_threshold_after_the_acceptable_pause) {
  uint64_t last = 0;
  auto d = steady(500, 50, &last);
  const double threshold = FailureDetectorOptions{}.phi_threshold;
  EXPECT_LT(d.phi(last + 500), 1);              // on time
  EXPECT_LT(d.phi(last + 1500), threshold);     // late by the acceptable pause
  EXPECT_GE(d.phi(last + 3000), threshold);     // gone
  double previous = 0;
  for (uint64_t t = last; t < last + 5000; t += 100) {
    EXPECT_GE(d.phi(t), previous);
    previous = d.phi(t);
  }
  EXPECT_LE(d.phi(last + 10'000'000), 1000);  // finite far out
  d.heartbeat(last + 3000);
  EXPECT_LT(d.phi(last + 3100), threshold);  // back
}

TEST(PhiAccrualDetector, a_jittery_peer_gets_more_slack_than_a_steady_one) {
  PhiAccrualDetector jittery{FailureDetectorOptions{}};
  uint64_t t = 0;
  for (int i = 0; i < 60; ++i) jittery.heartbeat(t += (i % 2 ? 100 : 1500));
  uint64_t last = 0;
  auto regular = steady(800, 60, &last);  // the same mean interval
  EXPECT_LT(jittery.phi(t + 2500), regular.phi(last + 2500));
}

TEST(PhiAccrualDetector, an_expected_peer_that_never_sends_becomes_suspect) {
  PhiAccrualDetector d{FailureDetectorOptions{}};
  d.expect(1000);
  EXPECT_LT(d.phi(1500), 1);
  EXPECT_GE(d.phi(4000), FailureDetectorOptions{}.phi_threshold);
  d.heartbeat(4000);  // the expected-but-silent stretch is not learnt as an interval
  d.heartbeat(4500);
  EXPECT_LT(d.phi(5000), 1);
}

TEST(PhiAccrualDetector, restart_forgets_the_last_arrival_until_the_next_heartbeat) {
  uint64_t last = 0;
  auto d = steady(500, 10, &last);
  d.restart();
  EXPECT_EQ(d.phi(last + 60'000), 0);
  d.heartbeat(last + 60'000);
  EXPECT_LT(d.phi(last + 60'500), 1);  // the 60 s gap was not learnt as an interval
}

}  // namespace
}  // namespace md::core
