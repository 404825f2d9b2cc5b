// The default, durable engine: RocksDB. A batch of updates is Gets (prepare), then one WriteBatch
// (commit), under the keys' stripe locks throughout; with SyncPolicy::always the write asks for an
// fsynced WAL, so a whole batch costs one fsync, and RocksDB's write group lets concurrent batches
// share one too. Gets ask the row cache first (storage/row_cache.h).
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <thread>

#include "storage/batch.h"
#include "storage/engine.h"
#include "storage/row_cache.h"

namespace md::storage {
namespace {

// Counts compactions as RocksDB completes them (its listeners run on its background threads).
struct CompactionCounter final : rocksdb::EventListener {
  void OnCompactionCompleted(rocksdb::DB*, const rocksdb::CompactionJobInfo&) override {
    completed.fetch_add(1, std::memory_order_relaxed);
  }
  std::atomic<uint64_t> completed{0};
};

class RocksDbEngine final : public Engine {
 public:
  RocksDbEngine(std::unique_ptr<rocksdb::Env> env, std::unique_ptr<rocksdb::DB> db, std::string path,
                const Options& options, std::shared_ptr<CompactionCounter> compactions)
      : env_(std::move(env)),
        db_(std::move(db)),
        path_(std::move(path)),
        options_(options),
        locks_(options.lock_stripes),
        rows_(options.row_cache_bytes),
        compactions_(std::move(compactions)) {
    write_options_.sync = options.sync == SyncPolicy::always;
    if (options.sync == SyncPolicy::interval) syncer_ = std::thread([this] { sync_periodically(); });
  }

  ~RocksDbEngine() override {
    if (syncer_.joinable()) {
      {
        std::lock_guard lock(stop_mutex_);
        stopping_ = true;
      }
      stop_cv_.notify_all();
      syncer_.join();
    }
    (void)sync();  // the owner syncs first and reports a failure; this is only a last try
    db_->Close();
  }

  EngineStats stats() const override {
    EngineStats stats;
    auto property = [this](const std::string& name) {
      uint64_t value = 0;
      return db_->GetIntProperty(name, &value) ? value : 0;
    };
    stats.keys_estimate = property(rocksdb::DB::Properties::kEstimateNumKeys);
    stats.table_bytes = property(rocksdb::DB::Properties::kTotalSstFilesSize);
    // The whole directory (tables, logs, manifests); a file that a compaction removes meanwhile
    // counts 0, and no error throws.
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(path_, ec), end; !ec && it != end; it.increment(ec)) {
      std::error_code size_error;
      const uintmax_t size = it->is_regular_file(size_error) ? it->file_size(size_error) : 0;
      if (!size_error) stats.bytes_on_disk += size;
    }
    stats.compactions = compactions_->completed.load(std::memory_order_relaxed);
    stats.row_cache_hits = row_hits_.load(std::memory_order_relaxed);
    stats.row_cache_misses = row_misses_.load(std::memory_order_relaxed);
    return stats;
  }

  Status get(Partition p, std::string_view key, std::string* value) override {
    auto found = read(storage_key(p, key));
    if (!found.is_ok()) return found.status();
    if (!*found) return Status::not_found("no such key");
    *value = std::move(**found);
    return Status::ok();
  }

  std::unique_ptr<PreparedBatch> prepare(std::span<const Update> updates) override {
    return prepare_batch(&locks_, updates, [this](const std::string& k) { return read(k); });
  }

  std::vector<UpdateResult> commit(std::unique_ptr<PreparedBatch> prepared) override {
    auto batch = applied(std::move(prepared));
    auto& results = batch->results;
    if (batch->writes.empty()) return std::move(results);
    rocksdb::WriteBatch write;
    for (const auto& [k, v] : batch->writes) write.Put(k, v);
    if (auto s = db_->Write(write_options_, &write); !s.ok()) {
      write_failed_ = true;
      for (auto& r : results) {
        if (r.status.is_ok()) r.status = to_status(s, "write");
      }
      return std::move(results);
    }
    for (const auto& [k, v] : batch->writes) rows_.put(k, v);  // still under the keys' locks
    return std::move(results);
  }

  Status remove(Partition p, std::string_view key) override {
    // Under the key's lock, like an update, so that the cache follows the engine's order. Removals
    // are rare (delivered hints, reaped tombstones): waiting out a batch's fsync now and then is fine.
    std::vector<std::string> keys{storage_key(p, key)};
    BatchLock guard(locks_, keys);
    auto s = db_->Delete(rocksdb::WriteOptions(), keys[0]);
    if (!s.ok()) write_failed_ = true;
    rows_.erase(keys[0]);  // also on failure: the engine's state is then unknown
    return to_status(s, "delete");
  }

  Status for_each(Partition p, std::optional<std::string_view> after, const Visitor& visit) override {
    // The scan stays inside the partition: bounded by the next partition's prefix, or, for the
    // last partition, by the end of the key space.
    std::string upper = p < 0xffff ? storage_key(p + 1, "") : std::string();
    rocksdb::Slice upper_slice(upper);
    rocksdb::ReadOptions read_options;
    if (!upper.empty()) read_options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read_options));
    if (after) {
      std::string start = storage_key(p, *after);
      it->Seek(start);
      if (it->Valid() && it->key() == start) it->Next();
    } else {
      it->Seek(storage_key(p, ""));
    }
    for (; it->Valid(); it->Next()) {
      auto k = it->key();
      if (!visit(std::string_view(k.data() + 2, k.size() - 2), std::string_view(it->value().data(), it->value().size()))) {
        break;
      }
    }
    return to_status(it->status(), "scan");
  }

  Status sync() override {
    if (write_failed_) return Status::io_error("rocksdb in " + path_ + " failed a write before: nothing more is synced");
    auto s = db_->SyncWAL();
    if (!s.ok()) write_failed_ = true;
    return to_status(s, "sync");
  }

  Status flush() override {
    if (write_failed_) return Status::io_error("rocksdb in " + path_ + " failed a write before: nothing is flushed");
    return to_status(db_->Flush(rocksdb::FlushOptions()), "flush");
  }

 private:
  Status to_status(const rocksdb::Status& s, const char* what) const {
    if (s.ok()) return Status::ok();
    return Status::io_error(std::string("rocksdb ") + what + " in " + path_ + ": " + s.ToString());
  }

  // The key's bytes (nullopt when absent): from the row cache, else from RocksDB, kept in the cache.
  Result<std::optional<std::string>> read(const std::string& k) {
    std::string value;
    RowCache::Miss miss;
    if (rows_.lookup(k, &value, &miss)) {
      row_hits_.fetch_add(1, std::memory_order_relaxed);
      return std::optional<std::string>(std::move(value));
    }
    row_misses_.fetch_add(1, std::memory_order_relaxed);
    auto s = db_->Get(rocksdb::ReadOptions(), k, &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) return to_status(s, "get");
    rows_.fill(k, value, miss);
    return std::optional<std::string>(std::move(value));
  }

  void sync_periodically() {
    std::unique_lock lock(stop_mutex_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(options_.sync_interval_ms), [this] { return stopping_; })) {
      (void)sync();  // a failure here shows at the next acknowledged write or at shutdown
    }
  }

  std::unique_ptr<rocksdb::Env> env_;  // null for the default env; outlives db_
  std::unique_ptr<rocksdb::DB> db_;
  std::string path_;
  Options options_;
  KeyLock locks_;
  RowCache rows_;
  rocksdb::WriteOptions write_options_;
  std::thread syncer_;
  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  // After a failed write or sync RocksDB refuses every write, and syncing its WAL again trips an
  // assertion (Debian builds RocksDB with assertions on): from then on sync() only reports it.
  std::atomic<bool> write_failed_{false};
  std::atomic<uint64_t> row_hits_{0}, row_misses_{0};
  std::shared_ptr<CompactionCounter> compactions_;
};

}  // namespace

Result<std::unique_ptr<Engine>> open_rocksdb_engine(const std::string& path, const Options& options) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::io_error("cannot create " + path + ": " + ec.message());
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  db_options.write_buffer_size = options.write_buffer_bytes;
  db_options.IncreaseParallelism(2);
  // Writers waiting to join a group commit sleep instead of spin-yielding: on a small machine
  // the spinning steals the CPU that the leader and the network need.
  db_options.enable_write_thread_adaptive_yield = false;
  switch (options.compression) {
    case BlockCompression::none: db_options.compression = rocksdb::kNoCompression; break;
    case BlockCompression::snappy: db_options.compression = rocksdb::kSnappyCompression; break;
    case BlockCompression::lz4: db_options.compression = rocksdb::kLZ4Compression; break;
    case BlockCompression::zstd: db_options.compression = rocksdb::kZSTD; break;
    case BlockCompression::lz4_zstd_bottom:
      db_options.compression = rocksdb::kLZ4Compression;
      db_options.bottommost_compression = rocksdb::kZSTD;
      break;
  }
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  // About 1.2 bytes of memory per key spare a read of each SST that does not hold a looked-up key
  // (every first write of a key, every read of a missing one).
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  db_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system) {
    env = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = env.get();
  }
  auto compactions = std::make_shared<CompactionCounter>();
  db_options.listeners.push_back(compactions);
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(db_options, path, &raw);
  if (!s.ok()) return Status::io_error("cannot open rocksdb in " + path + ": " + s.ToString());
  return std::unique_ptr<Engine>(std::make_unique<RocksDbEngine>(std::move(env), std::unique_ptr<rocksdb::DB>(raw), path,
                                                                 options, std::move(compactions)));
}

}  // namespace md::storage
