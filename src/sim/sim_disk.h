// A simulated node's disk: the storage::Engine the effect runner drives in the simulator, over
// what is synced (survives a crash) and what is not yet (lost in a crash), misbehaving as real
// disks do when the seed says so.
//
// Like RocksDB under the runtime: with DiskSync::always a batch of updates is durable once
// commit() returns, and so is everything written before it (a synced log); removals are not
// synced on their own. With DiskSync::none nothing is durable until the OS writes back
// (write_back(), the simulator's periodic flush). Faults:
//  - a read or a scan fails (an I/O error);
//  - a batch fails at its commit before anything is written (an I/O error), or because the disk
//    is full;
//  - a batch is written but its fsync fails: the batch fails and is not visible (RocksDB stops
//    before its memtable), yet its log record may have reached the platter: after a crash it is
//    there or not, by the seed, unless a later write of the key superseded it. Its results say
//    what was written, beside the error;
//  - a removal fails.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "sim/rng.h"
#include "storage/batch.h"
#include "storage/engine.h"

namespace md::sim {

// always: an update is durable when stored (and so is everything written before it, as with a
// synced log); a removal is not synced and reaches the platter with the next update or the OS's
// next flush, as the runtime's removals do. none: writes reach the platter only at the next flush.
enum class DiskSync { always, none };

// Probabilities per operation.
struct DiskFaults {
  double read_error = 0;
  double write_error = 0;
  double fsync_error = 0;
  double remove_error = 0;
  bool full = false;  // every batch and removal fails with "no space left on device"
  bool any() const { return read_error > 0 || write_error > 0 || fsync_error > 0 || remove_error > 0 || full; }
};

class SimDisk final : public storage::Engine {
 public:
  SimDisk(Rng& rng, DiskSync sync) : rng_(rng), sync_(sync) {}

  Status get(storage::Partition p, std::string_view key, std::string* value) override;
  std::unique_ptr<storage::PreparedBatch> prepare(std::span<const storage::Update> updates) override;
  std::vector<storage::UpdateResult> commit(std::unique_ptr<storage::PreparedBatch> batch) override;
  Status remove(storage::Partition p, std::string_view key) override;
  Status for_each(storage::Partition p, std::optional<std::string_view> after, const storage::Visitor& visit) override;
  Status sync() override;

  // Writes the batch without syncing it, whatever the sync policy (a mutation test's broken
  // committer: acknowledged before its fsync).
  std::vector<storage::UpdateResult> update_all_unsynced(std::span<const storage::Update> updates);
  // The OS writes back what is not synced.
  void write_back();
  // Power is cut: what is not synced is gone; a batch whose fsync failed is there or not.
  void crash();

  void set_faults(const DiskFaults& faults) { faults_ = faults; }
  const DiskFaults& faults() const { return faults_; }

  // For tests and the checker, no faults: the bytes stored (synced or not) for a key, and how
  // many keys a partition holds.
  std::optional<std::string> bytes(storage::Partition p, std::string_view key) const;
  size_t keys(storage::Partition p) const;
  void visit(storage::Partition p, const storage::Visitor& visit) const;
  // Tests only: the key is gone, synced or not, as if it had never been stored.
  void erase(storage::Partition p, std::string_view key);

 private:
  std::vector<storage::UpdateResult> write(std::unique_ptr<storage::AppliedBatch> batch, bool sync);
  Status fault(double p, const char* what);
  // Partition p as a read sees it: the synced data overlaid by what is not yet synced.
  std::map<std::string, std::string> view(storage::Partition p) const;
  void put(const std::string& storage_key, std::optional<std::string> bytes);  // nullopt: removed

  Rng& rng_;
  DiskSync sync_;
  DiskFaults faults_;
  std::map<std::string, std::string> synced_;                   // by storage key (storage/key_lock.h)
  std::map<std::string, std::optional<std::string>> unsynced_;  // newer; nullopt: removed
  std::map<std::string, std::string> limbo_;                    // written, fsync failed: invisible until a crash
};

}  // namespace md::sim
