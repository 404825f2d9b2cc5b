#include "sim/sim_disk.h"

#include "storage/batch.h"
#include "storage/key_lock.h"

namespace md::sim {

Status SimDisk::fault(double p, const char* what) {
  if (!rng_.chance(p)) return Status::ok();
  return Status::io_error(std::string("simulated disk: ") + what);
}

Status SimDisk::get(storage::Partition p, std::string_view key, std::string* value) {
  if (auto s = fault(faults_.read_error, "read error"); !s.is_ok()) return s;
  auto bytes = this->bytes(p, key);
  if (!bytes) return Status::not_found("no such key");
  *value = std::move(*bytes);
  return Status::ok();
}

std::optional<std::string> SimDisk::bytes(storage::Partition p, std::string_view key) const {
  const std::string k = storage::storage_key(p, key);
  if (auto it = unsynced_.find(k); it != unsynced_.end()) return it->second;
  if (auto it = synced_.find(k); it != synced_.end()) return it->second;
  return std::nullopt;
}

std::unique_ptr<storage::PreparedBatch> SimDisk::prepare(std::span<const storage::Update> updates) {
  // No key locks: the simulator runs on one thread, and a node prepares one batch at a time.
  return storage::prepare_batch(nullptr, updates, [this](const std::string& k) -> Result<std::optional<std::string>> {
    if (auto it = unsynced_.find(k); it != unsynced_.end()) return it->second;
    if (auto it = synced_.find(k); it != synced_.end()) return std::optional<std::string>(it->second);
    return std::optional<std::string>();
  });
}

std::vector<storage::UpdateResult> SimDisk::commit(std::unique_ptr<storage::PreparedBatch> batch) {
  return write(storage::applied(std::move(batch)), sync_ == DiskSync::always);
}

std::vector<storage::UpdateResult> SimDisk::update_all_unsynced(std::span<const storage::Update> updates) {
  return write(storage::applied(prepare(updates)), false);
}

std::vector<storage::UpdateResult> SimDisk::write(std::unique_ptr<storage::AppliedBatch> batch, bool sync) {
  auto& results = batch->results;
  auto failed = [&](const Status& s) {  // nothing written
    for (auto& r : results) {
      if (r.status.is_ok()) r = {s, {}};
    }
    return std::move(results);
  };
  if (faults_.full) return failed(Status::io_error("simulated disk: no space left on device"));
  if (auto s = fault(faults_.write_error, "write error"); !s.is_ok()) return failed(s);
  if (sync) {
    if (auto s = fault(faults_.fsync_error, "fsync failed"); !s.is_ok()) {
      for (auto& [k, v] : batch->writes) limbo_[k] = std::move(v);
      for (auto& r : results) {
        if (r.status.is_ok()) r.status = s;  // `stored` stays: what may be on the platter
      }
      return std::move(results);
    }
  }
  for (auto& [k, v] : batch->writes) put(k, std::move(v));
  if (sync) write_back();  // a synced log makes everything written before it durable too
  return std::move(results);
}

void SimDisk::put(const std::string& storage_key, std::optional<std::string> bytes) {
  limbo_.erase(storage_key);  // a later record of the key supersedes the one whose fsync failed
  unsynced_[storage_key] = std::move(bytes);
}

Status SimDisk::remove(storage::Partition p, std::string_view key) {
  if (faults_.full) return Status::io_error("simulated disk: no space left on device");
  if (auto s = fault(faults_.remove_error, "write error"); !s.is_ok()) return s;
  put(storage::storage_key(p, key), std::nullopt);
  return Status::ok();
}

std::map<std::string, std::string> SimDisk::view(storage::Partition p) const {
  std::map<std::string, std::string> view;
  const std::string prefix = storage::storage_key(p, "");
  auto in_p = [&](const std::string& k) { return k.compare(0, prefix.size(), prefix) == 0; };
  for (auto it = synced_.lower_bound(prefix); it != synced_.end() && in_p(it->first); ++it) view[it->first] = it->second;
  for (auto it = unsynced_.lower_bound(prefix); it != unsynced_.end() && in_p(it->first); ++it) {
    if (it->second) {
      view[it->first] = *it->second;
    } else {
      view.erase(it->first);
    }
  }
  return view;
}

Status SimDisk::for_each(storage::Partition p, std::optional<std::string_view> after, const storage::Visitor& visit) {
  if (auto s = fault(faults_.read_error, "read error"); !s.is_ok()) return s;
  const auto all = view(p);
  for (auto it = after ? all.upper_bound(storage::storage_key(p, *after)) : all.begin(); it != all.end(); ++it) {
    if (!visit(std::string_view(it->first).substr(2), it->second)) break;
  }
  return Status::ok();
}

size_t SimDisk::keys(storage::Partition p) const { return view(p).size(); }

void SimDisk::visit(storage::Partition p, const storage::Visitor& visit) const {
  for (const auto& [k, v] : view(p)) {
    if (!visit(std::string_view(k).substr(2), v)) break;
  }
}

Status SimDisk::sync() {
  write_back();
  return Status::ok();
}

void SimDisk::write_back() {
  for (auto& [k, v] : unsynced_) {
    if (v) {
      synced_[k] = std::move(*v);
    } else {
      synced_.erase(k);
    }
  }
  unsynced_.clear();
}

void SimDisk::crash() {
  unsynced_.clear();
  for (auto& [k, v] : limbo_) {
    if (rng_.chance(0.5)) synced_[k] = std::move(v);
  }
  limbo_.clear();
}

void SimDisk::erase(storage::Partition p, std::string_view key) {
  const std::string k = storage::storage_key(p, key);
  synced_.erase(k);
  unsynced_.erase(k);
  limbo_.erase(k);
}

}  // namespace md::sim
