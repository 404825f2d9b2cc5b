// The storage engine interface: what a node needs from its disk.
//
// Keys live in ring partitions; an engine keeps each partition a contiguous, ordered key range so
// that handoff and anti-entropy can scan one partition. Writes are read-modify-writes (updates):
// the caller's pure function decides the new bytes from the current ones, and the engine makes
// that step atomic per key. Updates come in batches that are written (and synced) together, so a
// node pays one fsync for everything that queued up while the previous one ran.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace rocksdb {
class FileSystem;
}

namespace md::storage {

using Partition = uint32_t;  // < 65536

enum class SyncPolicy {
  always,    // an acknowledged write is in the fsynced WAL; concurrent writers share fsyncs (group commit)
  interval,  // the WAL is fsynced every sync_interval_ms; a crash may lose that much
  none,      // left to the OS: survives a process crash, not a power loss
};
Result<SyncPolicy> parse_sync_policy(std::string_view text);

// How RocksDB compresses its SST blocks. lz4_zstd_bottom: lz4 for every level but the bottom one,
// which holds most of the data and is rewritten least, zstd there (bench/RESULTS.md, "Compression").
enum class BlockCompression { none, snappy, lz4, zstd, lz4_zstd_bottom };

struct Options {
  SyncPolicy sync = SyncPolicy::always;
  uint32_t sync_interval_ms = 100;            // for SyncPolicy::interval
  uint32_t lock_stripes = 1024;               // per-key serialisation of update(); more stripes, fewer false waits
  uint64_t block_cache_bytes = 64ull << 20;   // RocksDB: cache of uncompressed blocks
  uint64_t row_cache_bytes = 32ull << 20;     // RocksDB: latest bytes of recently used keys (row_cache.h)
  uint64_t write_buffer_bytes = 32ull << 20;  // RocksDB: memtable size before a flush
  BlockCompression compression = BlockCompression::lz4_zstd_bottom;  // RocksDB: --compression auto; off: none
  // Tests only: the file system RocksDB reads and writes through, e.g. one that loses unsynced
  // bytes in a simulated power cut (tests/storage/fault_injection_fs.h). Null: the real one.
  std::shared_ptr<rocksdb::FileSystem> file_system;
};

// Decides the new bytes of a key from its current bytes (nullopt when absent). An error aborts the
// update and nothing is written; a nullopt result means "unchanged": nothing is written or synced.
using UpdateFn = std::function<Result<std::optional<std::string>>(std::optional<std::string_view> current)>;
// One read-modify-write of a batch.
struct Update {
  Partition partition = 0;
  std::string key;
  UpdateFn fn;
};
// What became of one update: ok with the bytes now stored (new, or unchanged), or the error of its
// function (nothing written for it) or of the write (the batch is not visible; when its sync
// failed, its log record may still be on disk and come back after a restart: `stored` then says
// what was written).
struct UpdateResult {
  Status status;
  std::string stored;
};
// What an engine tells monitoring (GET /metrics); 0 where it keeps no such thing.
struct EngineStats {
  uint64_t keys_estimate = 0;     // RocksDB's estimate: tombstones and overwrites not yet compacted count
  uint64_t bytes_on_disk = 0;     // every file: tables, write-ahead logs, manifests
  uint64_t table_bytes = 0;       // RocksDB's SSTs (compressed data, indexes, filters); the memtable
                                  // counts once flushed (flush())
  uint64_t compactions = 0;       // completed since the engine opened
  uint64_t row_cache_hits = 0;    // reads answered by the row cache (row_cache.h)
  uint64_t row_cache_misses = 0;  // reads that went to RocksDB
};

// A batch whose updates have decided their new bytes (Engine::prepare) and are not yet written
// (Engine::commit). The engine keeps their keys locked in between, so no other update of them comes
// between the decision and the write; dropping a prepared batch writes nothing and frees its keys.
class PreparedBatch {
 public:
  virtual ~PreparedBatch() = default;
  // One per update: ok with the bytes it decided (new, or unchanged), or its function's error.
  std::vector<UpdateResult> results;
};

// Visits one key; returns false to stop the scan.
using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

class Engine {
 public:
  virtual ~Engine() = default;

  // Code::not_found when the key is absent.
  virtual Status get(Partition p, std::string_view key, std::string* value) = 0;
  // Applies the updates in order and writes what they changed as one atomic batch with one sync.
  // An update sees the result of earlier updates of its key in the same batch; concurrent batches
  // that share keys serialise. Returns one result per update; an ok result is durable per the
  // sync policy. It is prepare() then commit().
  std::vector<UpdateResult> update_all(std::span<const Update> updates);
  // update_all() in two steps, so that a caller can act on what the updates decided while their
  // write and its sync run (a coordinator sends its write on to the replicas meanwhile). Runs the
  // updates' functions in order and locks their keys until commit() or the batch is dropped.
  virtual std::unique_ptr<PreparedBatch> prepare(std::span<const Update> updates) = 0;
  // Writes what `batch` changed as one atomic batch with one sync and frees its keys. Returns its
  // results: the prepared ones, with the write's error on those that were ok if the write failed.
  virtual std::vector<UpdateResult> commit(std::unique_ptr<PreparedBatch> batch) = 0;
  // One update: a batch of one. On ok, *stored holds the bytes now stored.
  Status update(Partition p, std::string_view key, UpdateFn fn, std::string* stored);
  // Removes a key; removing an absent key is ok. Not synced on its own (callers tolerate a crash
  // bringing the key back: a delivered hint, a reaped tombstone); the next synced write makes it
  // durable.
  virtual Status remove(Partition p, std::string_view key) = 0;
  // Visits partition p's keys in key order, starting strictly after `after` when given.
  virtual Status for_each(Partition p, std::optional<std::string_view> after, const Visitor& visit) = 0;
  // Makes everything written so far durable (on clean shutdown).
  virtual Status sync() = 0;
  // Writes what the engine holds in memory into its files, so that a restart has no log to replay
  // and the files show what the data costs on disk (a clean shutdown does it). Default: nothing.
  virtual Status flush() { return Status::ok(); }
  // Safe from any thread; cheap enough for every scrape.
  virtual EngineStats stats() const { return {}; }
};

// Opens (creating if missing) a RocksDB engine in `path`. Errors name the path.
Result<std::unique_ptr<Engine>> open_rocksdb_engine(const std::string& path, const Options& options);
// An engine in memory: fast, and gone with the process (tests, simulations, --engine memory).
std::unique_ptr<Engine> make_memory_engine();

}  // namespace md::storage
