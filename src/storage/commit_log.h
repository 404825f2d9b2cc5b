// The RocksDB engine's write-ahead log: ours, so that one group commit is one write and one
// fdatasync that writes one range of blocks and no file metadata.
//
// RocksDB's own WAL grows with every append, so each of its fdatasyncs also writes the inode's new
// size (two synchronous I/Os), and RocksDB 7.8 will not recycle WAL files under point-in-time
// recovery. This log writes into segment files that are zero-filled when they are made and reused
// for good: an append overwrites blocks that already exist, and the fdatasync has no size to write.
//
// A record is `u32 xxh32 | u32 length | u64 run | u64 seq | payload`, the checksum over everything
// after it, and a write is whole 4 KiB pages (the last one's earlier records again, zeros after). `run` is new each time the log opens (kept in the file RUN, written before the first
// append); `seq` counts the run's records from 0. A segment holds one run's records in order from
// its start, followed by whatever it held before (zeros, or older records): reading stops at the
// first record whose checksum fails or that does not continue the run and sequence, so neither a
// torn write nor a reused segment's old tail is ever read as new.
//
// Opening replays the last run's records in order (the contiguous chain of its segments that ends
// at its newest record; nothing if that run ended with mark_flushed()), asks the table store to flush what the replay wrote, and starts a new run
// with every segment free. While the log runs, a full segment is sealed (fsynced) and a free one
// taken; a thread of the log's own asks the table store to flush once every record of the sealed
// segments has been applied to it, and then frees them for reuse. The same thread keeps a spare
// segment ready when none is free and none is about to be, so a log settles at two or three files.
//
// What the log promises its user, who must keep two rules: (1) call applied(seq) once record `seq`
// is in the table store (or will never be), and (2) call sync_all() before the table store writes
// anything to its table files (RocksDB: an EventListener's OnFlushBegin). Then every record whose
// effect reached a table file is durable in the log, so replaying the last run after a crash never
// puts a key back to an older value, whatever the sync policy.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/status.h"

namespace rocksdb {
class FileSystem;
class FSDirectory;
}  // namespace rocksdb

namespace md::storage {

struct CommitLogOptions {
  std::string dir;                           // created if missing
  uint64_t segment_bytes = 32ull << 20;      // a record larger than this gets a segment of its own, grown
  std::shared_ptr<rocksdb::FileSystem> file_system;  // null: the local one
};

class CommitLog {
 public:
  // Hands a replayed record's payload to the table store.
  using Replay = std::function<Status(std::string_view payload)>;
  // Makes everything the table store holds durable in its own files (RocksDB: a flush that waits).
  using FlushTables = std::function<Status()>;

  // Opens the log in options.dir: replays the last run into `replay`, flushes the tables and starts
  // a new run. Errors name the file.
  static Result<std::unique_ptr<CommitLog>> open(const CommitLogOptions& options, const Replay& replay,
                                                 FlushTables flush_tables);
  // Stops the retiring thread; writes nothing.
  ~CommitLog();
  CommitLog(const CommitLog&) = delete;
  CommitLog& operator=(const CommitLog&) = delete;

  // Writes a record (not yet durable) and returns its sequence number. After a failed write or
  // sync every later call fails with the same error: what is on the disk is then unknown.
  Result<uint64_t> append(std::string_view payload);
  // Makes every record up to `seq` durable: one fdatasync, shared by every caller that waits for it.
  Status sync(uint64_t seq);
  // Makes every record appended so far durable.
  Status sync_all();
  // Record `seq` is in the table store, or will never be: its segment may be retired.
  void applied(uint64_t seq);
  // Everything appended is in the table files (the table store flushed and closed): the next open
  // replays nothing. Nothing may be appended after it.
  Status mark_flushed();
  // Stops the log's thread, which flushes the tables and frees segments (before the table store closes).
  void stop_background();

  // Segment files on disk and how many of them are free (tests, monitoring).
  struct Stats {
    size_t segments = 0;
    size_t free_segments = 0;
  };
  Stats stats() const;

 private:
  struct Segment;
  CommitLog(CommitLogOptions options, FlushTables flush_tables, uint64_t run);

  Status write_run(uint64_t run);  // into RUN, durably
  Status take_segment();  // with mutex_ held: the next free segment, or a new one
  Result<std::shared_ptr<Segment>> make_segment(uint32_t index) const;
  Status seal_active();   // with mutex_ held
  Status fail(Status s);  // with mutex_ held: remembers the first failure
  uint64_t applied_through() const;  // with mutex_ held
  void background();

  const CommitLogOptions options_;
  const FlushTables flush_tables_;
  const uint64_t run_;
  std::unique_ptr<rocksdb::FSDirectory> directory_;

  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<Segment>> segments_;  // every file, by index
  std::vector<std::shared_ptr<Segment>> free_;      // zero-filled or retired, ready for reuse
  std::vector<std::shared_ptr<Segment>> sealed_;    // full and fsynced, waiting for a table flush
  std::shared_ptr<Segment> active_;                 // being appended to; null until the first append
  uint32_t next_index_ = 1;                         // of the next segment file made
  uint64_t write_offset_ = 0;                       // in active_
  std::string tail_;  // active_'s bytes from the start of the page that holds write_offset_ up to it
  uint64_t next_seq_ = 0;
  uint64_t durable_through_ = 0;  // every record below this is durable (a count, not a seq)
  std::set<uint64_t> unapplied_;  // appended, not yet applied to the table store
  Status failed_;
  bool stopping_ = false;
  std::condition_variable background_wake_;
  std::thread background_;  // last: starts after everything it uses exists
};

}  // namespace md::storage
