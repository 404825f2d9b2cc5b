#include "security/failure_limiter.h"

#include <algorithm>

namespace md::security {

FailureLimiter::Bucket& FailureLimiter::settle(const std::string& address, uint64_t now_ms) {
  Bucket& b = buckets_[address];
  if (now_ms > b.at_ms) {
    const uint64_t repaid = (now_ms - b.at_ms) / limits_.refill_ms;
    b.spent -= std::min(b.spent, repaid);
    b.at_ms += repaid * limits_.refill_ms;  // the part of a period not yet repaid still counts
    if (b.spent == 0) b.at_ms = now_ms;
  }
  return b;
}

uint64_t FailureLimiter::wait_ms(const std::string& address, uint64_t now_ms) {
  auto it = buckets_.find(address);
  if (it == buckets_.end()) return 0;
  const Bucket& b = settle(address, now_ms);
  if (b.spent < limits_.burst) return 0;
  return b.at_ms + limits_.refill_ms - now_ms;
}

void FailureLimiter::failed(const std::string& address, uint64_t now_ms) {
  if (!buckets_.contains(address) && buckets_.size() >= limits_.addresses_max) forget_some(now_ms);
  ++settle(address, now_ms).spent;
}

void FailureLimiter::forget_some(uint64_t now_ms) {
  for (auto it = buckets_.begin(); it != buckets_.end();) {
    const Bucket& b = settle(it->first, now_ms);
    it = b.spent == 0 ? buckets_.erase(it) : std::next(it);
  }
  while (buckets_.size() >= limits_.addresses_max) {
    auto oldest = std::min_element(buckets_.begin(), buckets_.end(),
                                   [](const auto& a, const auto& b) { return a.second.at_ms < b.second.at_ms; });
    buckets_.erase(oldest);
  }
}

}  // namespace md::security
