// The in-memory engine: one ordered map guarded by a reader-writer lock, plus the striped key locks
// that make a batch atomic per key like the durable engine.
#include <map>
#include <shared_mutex>

#include "storage/batch.h"
#include "storage/engine.h"

namespace md::storage {
namespace {

class MemoryEngine final : public Engine {
 public:
  Status get(Partition p, std::string_view key, std::string* value) override {
    std::shared_lock lock(mutex_);
    auto it = data_.find(storage_key(p, key));
    if (it == data_.end()) return Status::not_found("no such key");
    *value = it->second;
    return Status::ok();
  }

  std::unique_ptr<PreparedBatch> prepare(std::span<const Update> updates) override {
    return prepare_batch(&locks_, updates, [this](const std::string& k) -> Result<std::optional<std::string>> {
      std::shared_lock lock(mutex_);
      auto it = data_.find(k);
      if (it == data_.end()) return std::optional<std::string>();
      return std::optional<std::string>(it->second);
    });
  }

  std::vector<UpdateResult> commit(std::unique_ptr<PreparedBatch> prepared) override {
    auto batch = applied(std::move(prepared));
    std::unique_lock lock(mutex_);
    for (auto& [k, v] : batch->writes) data_[std::move(k)] = std::move(v);
    return std::move(batch->results);
  }

  Status remove(Partition p, std::string_view key) override {
    std::unique_lock lock(mutex_);
    data_.erase(storage_key(p, key));
    return Status::ok();
  }

  Status for_each(Partition p, std::optional<std::string_view> after, const Visitor& visit) override {
    std::shared_lock lock(mutex_);
    std::string prefix = storage_key(p, "");
    auto it = after ? data_.upper_bound(storage_key(p, *after)) : data_.lower_bound(prefix);
    for (; it != data_.end() && std::string_view(it->first).substr(0, 2) == prefix; ++it) {
      if (!visit(std::string_view(it->first).substr(2), it->second)) break;
    }
    return Status::ok();
  }

  Status sync() override { return Status::ok(); }

  EngineStats stats() const override {
    std::shared_lock lock(mutex_);
    EngineStats stats;
    stats.keys_estimate = data_.size();  // exact here (hints and tombstones included)
    return stats;
  }

 private:
  KeyLock locks_{1024};
  mutable std::shared_mutex mutex_;
  std::map<std::string, std::string> data_;
};

}  // namespace

std::unique_ptr<Engine> make_memory_engine() { return std::make_unique<MemoryEngine>(); }

}  // namespace md::storage
