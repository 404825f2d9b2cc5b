// A RocksDB file system that loses what a power cut loses, so that a crash test can tell an
// engine that syncs from one that only writes. (A killed process keeps the OS page cache: every
// byte written survives it, synced or not.)
//
// It passes every call to the real (local) file system and remembers, per file written through
// it, how many bytes were synced (Sync or Fsync; RangeSync promises nothing), what each unsynced
// write in place (a file opened with NewRandomRWFile, as the commit log's segments are) overwrote,
// and which files were created since their directory was last synced. The power goes off after a
// given number of changes to the disk: from then on every write, sync, creation, rename and
// removal fails. Once the database is closed, lose_unsynced() leaves on disk what would be there
// after the restart: every file cut to its synced length, the files whose directory entry was
// never synced gone, and each unsynced write in place torn: of its 512-byte sectors, a random
// half keep their new bytes and the others get their old ones back.
//
// Not modelled: a rename or removal is durable at once (RocksDB renames only while opening, and
// syncs the directory right after; so does the commit log); an appended tail is lost whole, never
// torn in the middle; direct I/O and recycled WALs are refused.
#pragma once

#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace md::storage {

class FaultInjectionFs final : public rocksdb::FileSystemWrapper {
 public:
  // `seed` decides which sectors of the unsynced writes in place survive a cut.
  explicit FaultInjectionFs(uint64_t seed = 0,
                            std::shared_ptr<rocksdb::FileSystem> real = rocksdb::FileSystem::Default());

  const char* Name() const override { return "FaultInjectionFs"; }

  // What lose_unsynced() took away.
  struct Loss {
    uint64_t bytes = 0;          // unsynced tails cut off
    uint64_t files_removed = 0;  // created without a directory sync
    uint64_t sectors_reverted = 0;  // of unsynced writes in place, the sectors that got their old bytes back
  };

  // The power goes off at the `operations`th change from now (a write, a sync, a creation...):
  // that one fails with an I/O error, and every later one.
  void cut_power_after(uint64_t operations);
  // The restart after the cut (call it with the database closed): drops what was not synced and
  // turns the power back on.
  Loss lose_unsynced();

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* file,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options, std::unique_ptr<rocksdb::FSWritableFile>* file,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* file, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& path, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* directory, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& path, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& path, const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& path, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;

  // For the wrapped files and directories (fault_injection_fs.cc).
  // Counts one change; fails if the power is off (or goes off with it).
  rocksdb::IOStatus check_power();
  void appended(const std::string& path, uint64_t bytes);
  void truncated(const std::string& path, uint64_t size);
  // A write in place at `offset` that replaced `old_bytes` and ends at `end`.
  void written_in_place(const std::string& path, uint64_t offset, std::string old_bytes, uint64_t end);
  // `written` and `in_place` are what the file held and how many writes in place it had when its
  // sync began: all of that is durable now.
  rocksdb::IOStatus synced(const std::string& path, uint64_t written, size_t in_place = 0);
  rocksdb::IOStatus directory_synced(const std::string& directory);
  uint64_t written(const std::string& path) const;
  size_t writes_in_place(const std::string& path) const;

 private:
  struct Overwrite {
    uint64_t offset = 0;
    std::string old_bytes;
  };
  struct FileState {
    uint64_t written = 0;
    uint64_t synced = 0;
    std::vector<Overwrite> unsynced_in_place;  // in the order written
  };
  // Starts tracking a file just opened for writing from its start (its old bytes are gone).
  void emptied(const std::string& path, bool created);
  // Starts tracking a file opened to append to its `size` bytes, unless already tracked.
  void reopened(const std::string& path, uint64_t size, bool created);

  mutable std::mutex mutex_;
  std::mt19937_64 rng_;
  bool power_off_ = false;
  uint64_t operations_left_ = 0;  // until the power goes off; 0: no cut planned
  std::map<std::string, FileState> files_;  // written through this layer, by path
  std::set<std::string> unsynced_entries_;  // created since their directory's last sync
};

}  // namespace md::storage
