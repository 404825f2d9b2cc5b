// A RocksDB file system that loses what a power cut loses, so that a crash test can tell an
// engine that syncs from one that only writes. (A killed process keeps the OS page cache: every
// byte written survives it, synced or not.)
//
// It passes every call to the real (local) file system and remembers, per file written through
// it, how many bytes were synced (Sync or Fsync; RangeSync promises nothing), and which files were
// created since their directory was last synced. The power goes off after a given number of
// changes to the disk: from then on every write, sync, creation, rename and removal fails. Once
// the database is closed, lose_unsynced() leaves on disk what would be there after the restart:
// every file cut to its synced length, and the files whose directory entry was never synced gone.
//
// Not modelled: a rename or removal is durable at once (RocksDB renames only while opening, and
// syncs the directory right after); bytes are lost only from a file's unsynced tail, never torn
// in the middle; direct I/O, files written in place and recycled WALs are refused.
#pragma once

#include <rocksdb/file_system.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace md::storage {

class FaultInjectionFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> real = rocksdb::FileSystem::Default());

  const char* Name() const override { return "FaultInjectionFs"; }

  // What lose_unsynced() took away.
  struct Loss {
    uint64_t bytes = 0;          // unsynced tails cut off
    uint64_t files_removed = 0;  // created without a directory sync
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
  // `written` is what the file held when its sync began: all of it is durable now.
  rocksdb::IOStatus synced(const std::string& path, uint64_t written);
  rocksdb::IOStatus directory_synced(const std::string& directory);
  uint64_t written(const std::string& path) const;

 private:
  struct FileState {
    uint64_t written = 0;
    uint64_t synced = 0;
  };
  // Starts tracking a file just opened for writing from its start (its old bytes are gone).
  void emptied(const std::string& path, bool created);
  // Starts tracking a file opened to append to its `size` bytes, unless already tracked.
  void reopened(const std::string& path, uint64_t size, bool created);

  mutable std::mutex mutex_;
  bool power_off_ = false;
  uint64_t operations_left_ = 0;  // until the power goes off; 0: no cut planned
  std::map<std::string, FileState> files_;  // written through this layer, by path
  std::set<std::string> unsynced_entries_;  // created since their directory's last sync
};

}  // namespace md::storage
