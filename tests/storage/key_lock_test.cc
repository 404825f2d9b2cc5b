// The per-key stripes and a batch's hold on them (storage/key_lock.h, storage/batch.h), run under
// TSan in CI: plain (non-atomic) counters guarded only by the locks, so a missing or misordered
// lock is a data race TSan reports, or a lost increment or a deadlock the test sees.
#include "storage/key_lock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>
#include <vector>

#include "storage/batch.h"

namespace md::storage {
namespace {

TEST(KeyLock, a_key_always_maps_to_the_same_stripe_in_range) {
  KeyLock locks(16);
  for (int i = 0; i < 1000; ++i) {
    auto key = storage_key(static_cast<uint32_t>(i % 7), "key" + std::to_string(i));
    EXPECT_LT(locks.stripe_of(key), 16u);
    EXPECT_EQ(locks.stripe_of(key), locks.stripe_of(key));
  }
  KeyLock one(0);  // zero stripes would divide by zero: it has one
  EXPECT_EQ(one.stripe_of("anything"), 0u);
}

TEST(BatchLock, keys_that_share_a_stripe_take_it_once) {
  KeyLock locks(1);  // every key in the one stripe: locking it twice would deadlock here
  BatchLock held(locks, {"a", "b", "a"});
  std::thread([&] { EXPECT_FALSE(locks.stripe(0).try_lock()); }).join();  // held, by this thread
}

TEST(BatchLock, the_stripes_are_released_with_the_batch) {
  KeyLock locks(4);
  { BatchLock held(locks, {"a", "b", "c", "d"}); }
  for (size_t s = 0; s < 4; ++s) {
    EXPECT_TRUE(locks.stripe(s).try_lock());
    locks.stripe(s).unlock();
  }
}

TEST(BatchLock, overlapping_batches_in_opposite_orders_serialise_and_never_deadlock) {
  constexpr int kThreads = 4, kRounds = 2000;
  KeyLock locks(8);
  const std::vector<std::string> keys{"x", "y", "z"};
  std::map<std::string, int> counters{{"x", 0}, {"y", 0}, {"z", 0}};  // guarded by the stripes only
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> batch = keys;
      if (t % 2) std::reverse(batch.begin(), batch.end());
      for (int i = 0; i < kRounds; ++i) {
        BatchLock held(locks, batch);
        for (const auto& k : batch) ++counters.find(k)->second;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& [key, count] : counters) EXPECT_EQ(count, kThreads * kRounds) << key;
}

}  // namespace
}  // namespace md::storage
