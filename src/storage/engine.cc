#include "storage/engine.h"

#include <algorithm>
#include <unordered_map>

#include "storage/batch.h"

namespace md::storage {

Result<SyncPolicy> parse_sync_policy(std::string_view text) {
  if (text == "always") return SyncPolicy::always;
  if (text == "interval") return SyncPolicy::interval;
  if (text == "none") return SyncPolicy::none;
  return Status::invalid_argument("sync policy must be always, interval or none, got '" + std::string(text) + "'");
}

std::vector<UpdateResult> Engine::update_all(std::span<const Update> updates) { return commit(prepare(updates)); }

Status Engine::update(Partition p, std::string_view key, UpdateFn fn, std::string* stored) {
  Update one{p, std::string(key), std::move(fn)};
  auto results = update_all(std::span<const Update>(&one, 1));
  if (results[0].status.is_ok()) *stored = std::move(results[0].stored);
  return results[0].status;
}

std::vector<std::string> storage_keys(std::span<const Update> updates) {
  std::vector<std::string> keys;
  keys.reserve(updates.size());
  for (const auto& u : updates) keys.push_back(storage_key(u.partition, u.key));
  return keys;
}

BatchLock::BatchLock(KeyLock& locks, const std::vector<std::string>& keys) {
  std::vector<size_t> stripes;
  stripes.reserve(keys.size());
  for (const auto& k : keys) stripes.push_back(locks.stripe_of(k));
  std::sort(stripes.begin(), stripes.end());
  stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
  held_.reserve(stripes.size());
  for (size_t s : stripes) held_.emplace_back(locks.stripe(s));
}

std::vector<std::pair<std::string, std::string>> apply_updates(std::span<const Update> updates,
                                                               const std::vector<std::string>& keys,
                                                               const ReadFn& read, std::vector<UpdateResult>* results) {
  std::vector<std::pair<std::string, std::string>> writes;
  std::unordered_map<std::string_view, size_t> written;  // storage key -> its entry in `writes`
  results->assign(updates.size(), UpdateResult{});
  for (size_t i = 0; i < updates.size(); ++i) {
    auto& result = (*results)[i];
    std::optional<std::string> current;
    if (auto it = written.find(keys[i]); it != written.end()) {
      current = writes[it->second].second;
    } else {
      auto committed = read(keys[i]);
      if (!committed.is_ok()) {
        result.status = committed.status();
        continue;
      }
      current = std::move(committed).value();
    }
    std::optional<std::string_view> view;
    if (current) view = *current;
    auto next = updates[i].fn(view);
    if (!next.is_ok()) {
      result.status = next.status();
      continue;
    }
    if (!*next) {  // unchanged
      result.stored = current.value_or(std::string());
      continue;
    }
    result.stored = **next;
    if (auto it = written.find(keys[i]); it != written.end()) {
      writes[it->second].second = std::move(**next);
    } else {
      written.emplace(keys[i], writes.size());
      writes.emplace_back(keys[i], std::move(**next));
    }
  }
  return writes;
}

std::unique_ptr<AppliedBatch> prepare_batch(KeyLock* locks, std::span<const Update> updates, const ReadFn& read) {
  auto batch = std::make_unique<AppliedBatch>();
  auto keys = storage_keys(updates);
  if (locks != nullptr) batch->lock.emplace(*locks, keys);
  batch->writes = apply_updates(updates, keys, read, &batch->results);
  return batch;
}

}  // namespace md::storage
