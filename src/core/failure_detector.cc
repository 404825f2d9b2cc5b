#include "core/failure_detector.h"

#include <algorithm>
#include <cmath>

namespace md::core {

PhiAccrualDetector::PhiAccrualDetector(const FailureDetectorOptions& options) : options_(options) {
  options_.window = std::max<uint32_t>(options_.window, 1);
}

void PhiAccrualDetector::heartbeat(uint64_t now_ms) {
  if (learn_ && now_ms >= last_ms_) {
    const uint64_t interval = now_ms - last_ms_;
    if (intervals_.size() < options_.window) {
      intervals_.push_back(interval);
    } else {
      const double old = static_cast<double>(intervals_[next_]);
      sum_ -= old;
      sum_squares_ -= old * old;
      intervals_[next_] = interval;
      next_ = (next_ + 1) % intervals_.size();
    }
    sum_ += static_cast<double>(interval);
    sum_squares_ += static_cast<double>(interval) * static_cast<double>(interval);
  }
  seen_ = learn_ = true;
  last_ms_ = now_ms;
}

void PhiAccrualDetector::expect(uint64_t now_ms) {
  if (seen_) return;
  seen_ = true;
  learn_ = false;
  last_ms_ = now_ms;
}

void PhiAccrualDetector::restart() { seen_ = learn_ = false; }

double PhiAccrualDetector::phi(uint64_t now_ms) const {
  if (!seen_ || now_ms <= last_ms_) return 0;
  // Before any interval is known, expect the configured one.
  const double n = static_cast<double>(intervals_.size());
  const double mean = intervals_.empty() ? static_cast<double>(options_.heartbeat_interval_ms) : sum_ / n;
  const double variance = intervals_.empty() ? 0 : std::max(0.0, sum_squares_ / n - mean * mean);
  const double std_dev = std::max(std::sqrt(variance), static_cast<double>(options_.min_std_dev_ms));
  const double expected = mean + static_cast<double>(options_.acceptable_pause_ms);
  // The normal distribution's tail, by the logistic approximation Akka uses (error below 1e-4):
  // phi = -log10(P(a heartbeat arrives later than now)).
  const double y = (static_cast<double>(now_ms - last_ms_) - expected) / std_dev;
  const double e = std::exp(-y * (1.5976 + 0.070566 * y * y));
  constexpr double kPhiMax = 1000;  // e underflows to 0 far out in the tail: keep phi finite
  if (y > 0) return std::min(-std::log10(e / (1.0 + e)), kPhiMax);
  return std::max(0.0, -std::log10(1.0 - 1.0 / (1.0 + e)));  // never -0
}

}  // namespace md::core
