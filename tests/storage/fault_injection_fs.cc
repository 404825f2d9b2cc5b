#include "fault_injection_fs.h"

#include <algorithm>
#include <filesystem>

namespace md::storage {
namespace {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;

// One spelling per file, whatever separators RocksDB joined it with.
std::string normal(const std::string& path) { return std::filesystem::path(path).lexically_normal().string(); }
std::string directory_of(const std::string& path) {
  return std::filesystem::path(path).lexically_normal().parent_path().string();
}

// A file being written: reports to the file system what is appended and what is synced.
class TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(FaultInjectionFs& fs, std::string path, std::unique_ptr<rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), path_(std::move(path)) {}

  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return append(data.size(), [&] { return target()->Append(data, options, dbg); });
  }
  IOStatus Append(const rocksdb::Slice& data, const IOOptions& options, const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    return append(data.size(), [&] { return target()->Append(data, options, info, dbg); });
  }
  IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const IOOptions&, IODebugContext*) override {
    return IOStatus::NotSupported("FaultInjectionFs does not model direct I/O");
  }
  IOStatus PositionedAppend(const rocksdb::Slice&, uint64_t, const IOOptions&, const rocksdb::DataVerificationInfo&,
                            IODebugContext*) override {
    return IOStatus::NotSupported("FaultInjectionFs does not model direct I/O");
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    auto s = target()->Truncate(size, options, dbg);
    if (s.ok()) fs_.truncated(path_, size);
    return s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    return target()->Flush(options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return sync([&] { return target()->Sync(options, dbg); });
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return sync([&] { return target()->Fsync(options, dbg); });
  }
  IOStatus RangeSync(uint64_t offset, uint64_t bytes, const IOOptions& options, IODebugContext* dbg) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    return target()->RangeSync(offset, bytes, options, dbg);  // starts writeback; durable only after a sync
  }
  IOStatus Allocate(uint64_t offset, uint64_t length, const IOOptions& options, IODebugContext* dbg) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    return target()->Allocate(offset, length, options, dbg);
  }

 private:
  template <typename Write>
  IOStatus append(size_t bytes, Write write) {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    auto s = write();
    if (s.ok()) fs_.appended(path_, bytes);
    return s;
  }
  // What the file held before the sync began is durable once it returns; appends made meanwhile
  // (RocksDB may append to a WAL while another thread syncs it) may not be.
  template <typename Sync>
  IOStatus sync(Sync do_sync) {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    uint64_t before = fs_.written(path_);
    auto s = do_sync();
    if (!s.ok()) return s;
    return fs_.synced(path_, before);  // fails if the power went off meanwhile: then it may not have been
  }

  FaultInjectionFs& fs_;
  std::string path_;
};

// A directory: its sync makes the entries created in it durable.
class TrackedDirectory final : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(FaultInjectionFs& fs, std::string path, std::unique_ptr<rocksdb::FSDirectory> directory)
      : FSDirectoryWrapper(std::move(directory)), fs_(fs), path_(std::move(path)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    auto s = FSDirectoryWrapper::Fsync(options, dbg);
    return s.ok() ? fs_.directory_synced(path_) : s;
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions& reason) override {
    if (auto s = fs_.check_power(); !s.ok()) return s;
    auto s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg, reason);
    return s.ok() ? fs_.directory_synced(path_) : s;
  }

 private:
  FaultInjectionFs& fs_;
  std::string path_;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs(std::shared_ptr<rocksdb::FileSystem> real) : FileSystemWrapper(real) {}

FaultInjectionFs::Loss FaultInjectionFs::lose_unsynced() {
  // On the disk itself: RocksDB's file system cannot truncate by name.
  std::lock_guard lock(mutex_);
  Loss loss;
  std::error_code error;
  for (const auto& path : unsynced_entries_) {
    if (std::filesystem::remove(path, error)) ++loss.files_removed;
    files_.erase(path);
  }
  for (const auto& [path, state] : files_) {
    auto size = std::filesystem::file_size(path, error);
    if (error || size <= state.synced) continue;
    std::filesystem::resize_file(path, state.synced, error);
    if (!error) loss.bytes += size - state.synced;
  }
  files_.clear();
  unsynced_entries_.clear();
  power_off_ = false;
  operations_left_ = 0;
  return loss;
}

void FaultInjectionFs::cut_power_after(uint64_t operations) {
  std::lock_guard lock(mutex_);
  operations_left_ = operations;
}

IOStatus FaultInjectionFs::check_power() {
  std::lock_guard lock(mutex_);
  if (operations_left_ > 0 && --operations_left_ == 0) power_off_ = true;
  return power_off_ ? IOStatus::IOError("FaultInjectionFs: the power is off") : IOStatus::OK();
}

void FaultInjectionFs::emptied(const std::string& path, bool created) {
  std::lock_guard lock(mutex_);
  files_[path] = FileState{};
  if (created) unsynced_entries_.insert(path);
}

void FaultInjectionFs::reopened(const std::string& path, uint64_t size, bool created) {
  std::lock_guard lock(mutex_);
  // A file this layer already tracks keeps its synced length; one from before it is all durable.
  if (files_.contains(path)) return;
  files_[path] = FileState{size, size};
  if (created) unsynced_entries_.insert(path);
}

void FaultInjectionFs::appended(const std::string& path, uint64_t bytes) {
  std::lock_guard lock(mutex_);
  files_[path].written += bytes;
}

void FaultInjectionFs::truncated(const std::string& path, uint64_t size) {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  if (it == files_.end()) return;  // from before this layer: what is left of it is durable
  it->second.written = size;
  it->second.synced = std::min(it->second.synced, size);
}

IOStatus FaultInjectionFs::synced(const std::string& path, uint64_t written) {
  std::lock_guard lock(mutex_);
  if (power_off_) return IOStatus::IOError("FaultInjectionFs: the power went off during a sync");
  auto& state = files_[path];
  state.synced = std::max(state.synced, std::min(written, state.written));
  return IOStatus::OK();
}

IOStatus FaultInjectionFs::directory_synced(const std::string& directory) {
  std::lock_guard lock(mutex_);
  if (power_off_) return IOStatus::IOError("FaultInjectionFs: the power went off during a sync");
  std::erase_if(unsynced_entries_, [&](const std::string& path) { return directory_of(path) == directory; });
  return IOStatus::OK();
}

uint64_t FaultInjectionFs::written(const std::string& path) const {
  std::lock_guard lock(mutex_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second.written;
}

IOStatus FaultInjectionFs::NewWritableFile(const std::string& path, const FileOptions& options,
                                           std::unique_ptr<rocksdb::FSWritableFile>* file, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  auto name = normal(path);
  bool existed = target()->FileExists(path, IOOptions(), dbg).ok();
  std::unique_ptr<rocksdb::FSWritableFile> real;
  auto s = target()->NewWritableFile(path, options, &real, dbg);
  if (!s.ok()) return s;
  emptied(name, !existed);
  *file = std::make_unique<TrackedFile>(*this, name, std::move(real));
  return s;
}

IOStatus FaultInjectionFs::ReopenWritableFile(const std::string& path, const FileOptions& options,
                                              std::unique_ptr<rocksdb::FSWritableFile>* file, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  auto name = normal(path);
  uint64_t size = 0;
  bool existed = target()->GetFileSize(path, IOOptions(), &size, dbg).ok();
  std::unique_ptr<rocksdb::FSWritableFile> real;
  auto s = target()->ReopenWritableFile(path, options, &real, dbg);
  if (!s.ok()) return s;
  reopened(name, size, !existed);
  *file = std::make_unique<TrackedFile>(*this, name, std::move(real));
  return s;
}

IOStatus FaultInjectionFs::ReuseWritableFile(const std::string&, const std::string&, const FileOptions&,
                                             std::unique_ptr<rocksdb::FSWritableFile>*, IODebugContext*) {
  return IOStatus::NotSupported("FaultInjectionFs does not model recycled WALs");
}

IOStatus FaultInjectionFs::NewRandomRWFile(const std::string&, const FileOptions&,
                                           std::unique_ptr<rocksdb::FSRandomRWFile>*, IODebugContext*) {
  return IOStatus::NotSupported("FaultInjectionFs does not model files written in place");
}

IOStatus FaultInjectionFs::NewDirectory(const std::string& path, const IOOptions& options,
                                        std::unique_ptr<rocksdb::FSDirectory>* directory, IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> real;
  auto s = target()->NewDirectory(path, options, &real, dbg);
  if (s.ok()) *directory = std::make_unique<TrackedDirectory>(*this, normal(path), std::move(real));
  return s;
}

IOStatus FaultInjectionFs::RenameFile(const std::string& from, const std::string& to, const IOOptions& options,
                                      IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  auto s = target()->RenameFile(from, to, options, dbg);
  if (!s.ok()) return s;
  std::lock_guard lock(mutex_);
  auto source = normal(from), destination = normal(to);
  if (auto node = files_.extract(source)) {
    node.key() = destination;
    files_.insert_or_assign(destination, node.mapped());
  } else {
    files_.erase(destination);
  }
  unsynced_entries_.erase(source);  // the rename itself is taken as durable (see the header)
  unsynced_entries_.erase(destination);
  return s;
}

IOStatus FaultInjectionFs::LinkFile(const std::string& from, const std::string& to, const IOOptions& options,
                                    IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  return target()->LinkFile(from, to, options, dbg);
}

IOStatus FaultInjectionFs::DeleteFile(const std::string& path, const IOOptions& options, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  auto s = target()->DeleteFile(path, options, dbg);
  if (s.ok()) {
    std::lock_guard lock(mutex_);
    files_.erase(normal(path));
    unsynced_entries_.erase(normal(path));
  }
  return s;
}

IOStatus FaultInjectionFs::CreateDir(const std::string& path, const IOOptions& options, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  return target()->CreateDir(path, options, dbg);
}

IOStatus FaultInjectionFs::CreateDirIfMissing(const std::string& path, const IOOptions& options, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  return target()->CreateDirIfMissing(path, options, dbg);
}

IOStatus FaultInjectionFs::DeleteDir(const std::string& path, const IOOptions& options, IODebugContext* dbg) {
  if (auto s = check_power(); !s.ok()) return s;
  return target()->DeleteDir(path, options, dbg);
}

}  // namespace md::storage
