// What the engines share for prepare() and commit(): the per-key locks of a batch, the in-order
// application of its updates, and the prepared batch that carries both to the write.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "storage/engine.h"
#include "storage/key_lock.h"

namespace md::storage {

// The storage keys of a batch's updates, in order.
std::vector<std::string> storage_keys(std::span<const Update> updates);

// Holds the stripes of all the given keys, taken in stripe order so that two batches never
// deadlock, each stripe once.
class BatchLock {
 public:
  BatchLock(KeyLock& locks, const std::vector<std::string>& keys);

 private:
  std::vector<std::unique_lock<std::mutex>> held_;
};

// Runs the updates in order: each function sees the committed bytes (from `read`) or, when an
// earlier update of the batch wrote its key, those. Fills one result per update (ok ones with the
// new bytes) and returns the (storage key, bytes) pairs to write, the last one per key winning.
using ReadFn = std::function<Result<std::optional<std::string>>(const std::string& storage_key)>;
std::vector<std::pair<std::string, std::string>> apply_updates(std::span<const Update> updates,
                                                               const std::vector<std::string>& keys,
                                                               const ReadFn& read, std::vector<UpdateResult>* results);

// A prepared batch (engine.h): what it writes and, in an engine that other threads share, the
// locks of its keys until it is committed or dropped.
struct AppliedBatch final : PreparedBatch {
  std::optional<BatchLock> lock;
  std::vector<std::pair<std::string, std::string>> writes;  // (storage key, bytes), one per key
};
// Locks the updates' keys (unless `locks` is null: one thread does everything) and applies them.
std::unique_ptr<AppliedBatch> prepare_batch(KeyLock* locks, std::span<const Update> updates, const ReadFn& read);
// The engine's own batch back from commit(): it made it in prepare().
inline std::unique_ptr<AppliedBatch> applied(std::unique_ptr<PreparedBatch> batch) {
  return std::unique_ptr<AppliedBatch>(static_cast<AppliedBatch*>(batch.release()));
}

}  // namespace md::storage
