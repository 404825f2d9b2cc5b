// What both engines share for update_all(): the per-key locks of a batch and the in-order
// application of its updates.
#pragma once

#include <functional>
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

}  // namespace md::storage
