// The limit on failed authentications, per client address: a token bucket that lets an address
// fail `burst` times in a row and then once per `refill_ms`. While its bucket is empty, the
// address's attempts are refused without checking them (429 / RESOURCE_EXHAUSTED / -ERR), so
// guessing passwords costs the guesser time, and the node no scrypt per guess.
//
// Pure: the time comes in as an argument. Memory is bounded: at most addresses_max addresses are
// remembered; beyond that, the ones whose buckets are full again are forgotten first (they owe
// nothing), then the oldest.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace md::security {

struct FailureLimits {
  uint32_t burst = 10;        // failures in a row before the address must wait
  uint64_t refill_ms = 1000;  // then one more attempt per this much time
  size_t addresses_max = 10'000;
};

class FailureLimiter {
 public:
  explicit FailureLimiter(FailureLimits limits = {}) : limits_(limits) {}

  // 0 if an attempt from `address` may be checked now, else how long until it may.
  uint64_t wait_ms(const std::string& address, uint64_t now_ms);
  // An attempt from `address` failed: it costs one from the address's bucket.
  void failed(const std::string& address, uint64_t now_ms);
  size_t addresses() const { return buckets_.size(); }

 private:
  struct Bucket {
    uint64_t spent = 0;     // attempts owed at `at_ms`
    uint64_t at_ms = 0;
  };
  // The bucket brought up to `now_ms` (its debt paid down by the time passed).
  Bucket& settle(const std::string& address, uint64_t now_ms);
  void forget_some(uint64_t now_ms);

  FailureLimits limits_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace md::security
