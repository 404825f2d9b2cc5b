#include "storage/commit_log.h"

#include <rocksdb/file_system.h>
#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>

namespace md::storage {
namespace {

constexpr size_t kHeaderBytes = 24;  // u32 checksum | u32 length | u64 run | u64 seq
constexpr size_t kFillChunk = 1 << 20;
constexpr size_t kPageBytes = 4096;
constexpr std::string_view kSegmentPrefix = "segment-";
constexpr const char* kRunFile = "RUN";

void put_u32(char* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
void put_u64(char* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(v >> (8 * i));
}
uint32_t get_u32(const char* in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}
uint64_t get_u64(const char* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * i);
  return v;
}

size_t round_up(size_t n, size_t unit) { return (n + unit - 1) / unit * unit; }

std::string segment_name(uint32_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "segment-%06u", index);
  return name;
}

Status io_status(const rocksdb::IOStatus& s, const std::string& what) {
  return s.ok() ? Status::ok() : Status::io_error("commit log: " + what + ": " + s.ToString());
}

// The records at the start of one segment that belong together: the first one's run, then every
// following record of that run with the next sequence number, up to the first that is not.
struct Scanned {
  uint64_t run = 0;
  uint64_t first_seq = 0;
  std::vector<std::string_view> payloads;  // into the segment's bytes
};

Scanned scan(std::string_view bytes) {
  Scanned found;
  size_t at = 0;
  while (bytes.size() - at >= kHeaderBytes) {
    const char* header = bytes.data() + at;
    const uint32_t length = get_u32(header + 4);
    if (length > bytes.size() - at - kHeaderBytes) break;
    if (XXH32(header + 4, kHeaderBytes - 4 + length, 0) != get_u32(header)) break;
    const uint64_t run = get_u64(header + 8), seq = get_u64(header + 16);
    if (found.payloads.empty()) {
      found.run = run;
      found.first_seq = seq;
    } else if (run != found.run || seq != found.first_seq + found.payloads.size()) {
      break;
    }
    found.payloads.emplace_back(header + kHeaderBytes, length);
    at += kHeaderBytes + length;
  }
  return found;
}

}  // namespace

struct CommitLog::Segment {
  uint32_t index = 0;
  std::string path;
  std::unique_ptr<rocksdb::FSRandomRWFile> file;
  uint64_t last_seq = 0;  // once sealed: its last record
};

CommitLog::CommitLog(CommitLogOptions options, FlushTables flush_tables, uint64_t run)
    : options_(std::move(options)), flush_tables_(std::move(flush_tables)), run_(run) {}

Result<std::unique_ptr<CommitLog>> CommitLog::open(const CommitLogOptions& given, const Replay& replay,
                                                   FlushTables flush_tables) {
  CommitLogOptions options = given;
  if (!options.file_system) options.file_system = rocksdb::FileSystem::Default();
  auto& fs = *options.file_system;
  const rocksdb::IOOptions io;
  if (auto s = fs.CreateDirIfMissing(options.dir, io, nullptr); !s.ok()) return io_status(s, "create " + options.dir);
  std::unique_ptr<rocksdb::FSDirectory> directory;
  if (auto s = fs.NewDirectory(options.dir, io, &directory, nullptr); !s.ok()) {
    return io_status(s, "open " + options.dir);
  }

  // The runs so far: the last one opened is in RUN; the new one is past it and past every record.
  uint64_t last_run = 0;
  const std::string run_path = options.dir + "/" + kRunFile;
  if (std::string text; rocksdb::ReadFileToString(&fs, run_path, &text).ok()) {
    if (std::from_chars(text.data(), text.data() + text.size(), last_run).ec != std::errc()) {
      return Status::corruption("commit log: " + run_path + " does not hold a number");
    }
  }

  // Every segment, read whole; the last run's are replayed.
  std::vector<std::string> children;
  if (auto s = fs.GetChildren(options.dir, io, &children, nullptr); !s.ok()) return io_status(s, "list " + options.dir);
  std::map<uint32_t, std::string> contents;  // by index
  for (const auto& name : children) {
    if (!name.starts_with(kSegmentPrefix)) continue;
    uint32_t index = 0;
    auto digits = std::string_view(name).substr(kSegmentPrefix.size());
    if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec != std::errc()) continue;
    auto& bytes = contents[index];
    if (auto s = rocksdb::ReadFileToString(&fs, options.dir + "/" + name, &bytes); !s.ok()) {
      return io_status(s, "read " + name);
    }
  }
  uint64_t newest_run = 0;
  std::vector<Scanned> chain;  // the newest run's segments
  for (const auto& [index, bytes] : contents) {
    auto found = scan(bytes);
    if (found.payloads.empty() || found.run < newest_run) continue;
    if (found.run > newest_run) chain.clear();
    newest_run = found.run;
    chain.push_back(std::move(found));
  }
  // Only the run that RUN names can hold records the tables lack: an earlier one was flushed when
  // the next opened, and a run that closed cleanly moved RUN past itself (mark_flushed()). A run
  // past RUN cannot be: RUN is written before a run's first record.
  if (newest_run > last_run) {
    return Status::corruption("commit log: " + options.dir + " holds records of run " + std::to_string(newest_run) +
                              " but " + run_path + " names run " + std::to_string(last_run));
  }
  if (newest_run < last_run) chain.clear();
  // The chain: the segments whose records follow on without a gap, back from the newest. A segment
  // before a gap was retired (its records are in the tables) and then reused, or is an older one.
  std::sort(chain.begin(), chain.end(), [](const Scanned& a, const Scanned& b) { return a.first_seq < b.first_seq; });
  size_t chain_start = chain.size();
  while (chain_start > 0) {
    --chain_start;
    if (chain_start == 0) break;
    const auto& before = chain[chain_start - 1];
    if (before.first_seq + before.payloads.size() != chain[chain_start].first_seq) break;
  }
  for (size_t i = chain_start; i < chain.size(); ++i) {
    for (auto payload : chain[i].payloads) {
      if (auto s = replay(payload); !s.is_ok()) return s;
    }
  }
  // The replayed records (and whatever the table store recovered by itself) into the tables, so
  // that the new run starts with every segment free.
  if (auto s = flush_tables(); !s.is_ok()) return s;

  // The new run, durably before its first record.
  std::unique_ptr<CommitLog> log(new CommitLog(options, std::move(flush_tables), last_run + 1));
  log->directory_ = std::move(directory);
  if (auto s = log->write_run(log->run_); !s.is_ok()) return s;
  for (const auto& [index, bytes] : contents) {
    auto segment = std::make_shared<Segment>();
    segment->index = index;
    segment->path = options.dir + "/" + segment_name(index);
    if (auto s = fs.NewRandomRWFile(segment->path, rocksdb::FileOptions(), &segment->file, nullptr); !s.ok()) {
      return io_status(s, "open " + segment->path);
    }
    log->segments_.push_back(segment);
    log->free_.push_back(segment);
  }
  std::reverse(log->free_.begin(), log->free_.end());  // taken from the back: the lowest index first
  log->next_index_ = contents.empty() ? 1 : contents.rbegin()->first + 1;
  if (log->free_.empty()) {  // a new log: its first segment now, not in its first write
    auto made = log->make_segment(log->next_index_++);
    if (!made.is_ok()) return made.status();
    log->segments_.push_back(*made);
    log->free_.push_back(std::move(*made));
  }
  log->background_ = std::thread([raw = log.get()] { raw->background(); });
  return log;
}

CommitLog::~CommitLog() { stop_background(); }

Status CommitLog::write_run(uint64_t run) {
  auto& fs = *options_.file_system;
  const rocksdb::IOOptions io;
  const std::string path = options_.dir + "/" + kRunFile, temporary = path + ".tmp";
  std::unique_ptr<rocksdb::FSWritableFile> file;
  auto s = fs.NewWritableFile(temporary, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(std::to_string(run), io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (s.ok()) s = file->Close(io, nullptr);
  if (s.ok()) s = fs.RenameFile(temporary, path, io, nullptr);
  if (s.ok()) s = directory_->FsyncWithDirOptions(io, nullptr, rocksdb::DirFsyncOptions());
  return io_status(s, "write " + path);
}

Status CommitLog::mark_flushed() {
  {
    std::lock_guard lock(mutex_);
    if (!failed_.is_ok()) return failed_;
  }
  return write_run(run_ + 1);
}

void CommitLog::stop_background() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  background_wake_.notify_all();
  if (background_.joinable()) background_.join();
}

Result<uint64_t> CommitLog::append(std::string_view payload) {
  const size_t record_bytes = kHeaderBytes + payload.size();
  std::lock_guard lock(mutex_);
  if (!failed_.is_ok()) return failed_;
  if (active_ && write_offset_ > 0 && write_offset_ + record_bytes > options_.segment_bytes) {
    if (auto s = seal_active(); !s.is_ok()) return s;
  }
  if (!active_) {
    if (auto s = take_segment(); !s.is_ok()) return s;
  }
  // Whole pages only: the bytes already in the last page (tail_), the record, zeros to the page's
  // end. A write that covers part of a page the kernel no longer caches (a reused segment's) would
  // first read that page from the disk; a whole page it simply replaces.
  const uint64_t seq = next_seq_;
  std::string pages(round_up(tail_.size() + record_bytes, kPageBytes), '\0');
  std::memcpy(pages.data(), tail_.data(), tail_.size());
  char* record = pages.data() + tail_.size();
  put_u32(record + 4, static_cast<uint32_t>(payload.size()));
  put_u64(record + 8, run_);
  put_u64(record + 16, seq);
  std::memcpy(record + kHeaderBytes, payload.data(), payload.size());
  put_u32(record, XXH32(record + 4, record_bytes - 4, 0));
  if (auto s = active_->file->Write(write_offset_ - tail_.size(), pages, rocksdb::IOOptions(), nullptr); !s.ok()) {
    return fail(io_status(s, "write " + active_->path));
  }
  write_offset_ += record_bytes;
  const size_t in_last_page = write_offset_ % kPageBytes;
  tail_.assign(record + record_bytes - in_last_page, in_last_page);
  ++next_seq_;
  unapplied_.insert(seq);
  return seq;
}

Status CommitLog::sync(uint64_t seq) {
  std::shared_ptr<Segment> segment;
  uint64_t through = 0;
  {
    std::lock_guard lock(mutex_);
    if (!failed_.is_ok()) return failed_;
    if (seq < durable_through_) return Status::ok();
    segment = active_;  // a sealed segment was fsynced when it was sealed
    through = next_seq_;
  }
  if (!segment) return Status::ok();
  auto s = segment->file->Sync(rocksdb::IOOptions(), nullptr);
  std::lock_guard lock(mutex_);
  if (!s.ok()) return fail(io_status(s, "sync " + segment->path));
  durable_through_ = std::max(durable_through_, through);
  return failed_;
}

Status CommitLog::sync_all() {
  uint64_t last = 0;
  {
    std::lock_guard lock(mutex_);
    if (next_seq_ == 0) return failed_;
    last = next_seq_ - 1;
  }
  return sync(last);
}

void CommitLog::applied(uint64_t seq) {
  bool sealed_waits = false;
  {
    std::lock_guard lock(mutex_);
    unapplied_.erase(seq);
    sealed_waits = !sealed_.empty() && seq <= sealed_.back()->last_seq;
  }
  // Only then can the background thread have something to do: waking it for every record would
  // cost a context switch per write.
  if (sealed_waits) background_wake_.notify_all();
}

CommitLog::Stats CommitLog::stats() const {
  std::lock_guard lock(mutex_);
  return Stats{segments_.size(), free_.size()};
}

Status CommitLog::take_segment() {
  if (free_.empty()) {  // the spare is late (or could not be made): the writer makes one and waits
    auto made = make_segment(next_index_++);
    if (!made.is_ok()) return fail(made.status());
    segments_.push_back(*made);
    free_.push_back(std::move(*made));
  }
  active_ = free_.back();
  free_.pop_back();
  write_offset_ = 0;
  tail_.clear();
  if (free_.empty()) background_wake_.notify_all();  // a spare to make
  return Status::ok();
}

// A new segment file, zero-filled so that its blocks exist before the first record lands on them.
Result<std::shared_ptr<CommitLog::Segment>> CommitLog::make_segment(uint32_t index) const {
  auto segment = std::make_shared<Segment>();
  segment->index = index;
  segment->path = options_.dir + "/" + segment_name(index);
  const rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> fill;
  auto s = options_.file_system->NewWritableFile(segment->path, rocksdb::FileOptions(), &fill, nullptr);
  const std::string zeros(kFillChunk, '\0');
  for (uint64_t at = 0; s.ok() && at < options_.segment_bytes; at += kFillChunk) {
    s = fill->Append(rocksdb::Slice(zeros.data(), std::min<uint64_t>(kFillChunk, options_.segment_bytes - at)), io,
                     nullptr);
  }
  if (s.ok()) s = fill->Sync(io, nullptr);
  if (s.ok()) s = fill->Close(io, nullptr);
  if (s.ok()) s = directory_->FsyncWithDirOptions(io, nullptr, rocksdb::DirFsyncOptions());
  if (s.ok()) s = options_.file_system->NewRandomRWFile(segment->path, rocksdb::FileOptions(), &segment->file, nullptr);
  if (!s.ok()) return io_status(s, "make " + segment->path);
  return segment;
}

Status CommitLog::seal_active() {
  if (auto s = active_->file->Sync(rocksdb::IOOptions(), nullptr); !s.ok()) {
    return fail(io_status(s, "sync " + active_->path));
  }
  durable_through_ = next_seq_;
  active_->last_seq = next_seq_ - 1;
  sealed_.push_back(std::move(active_));
  active_ = nullptr;
  background_wake_.notify_all();
  return Status::ok();
}

Status CommitLog::fail(Status s) {
  if (failed_.is_ok()) failed_ = std::move(s);
  return failed_;
}

uint64_t CommitLog::applied_through() const {
  return unapplied_.empty() ? next_seq_ : *unapplied_.begin();
}

// Frees sealed segments once every record in them is in the table store and a flush of the tables
// has made the records redundant; and keeps a spare segment ready, so that a writer that seals one
// rarely waits for a new file.
void CommitLog::background() {
  std::unique_lock lock(mutex_);
  size_t failed_flush_at = 0;  // after a failed flush, wait for another sealed segment before retrying
  bool spare_failed = false;   // then the writer makes its own, and reports the error if it recurs
  auto can_retire = [&] { return sealed_.size() > failed_flush_at && sealed_.back()->last_seq < applied_through(); };
  // A spare only when no sealed segment is about to be freed: that one is the next spare.
  auto needs_spare = [&] { return free_.empty() && sealed_.empty() && !spare_failed; };
  while (true) {
    background_wake_.wait(lock, [&] { return stopping_ || can_retire() || needs_spare(); });
    if (stopping_) return;
    if (!can_retire()) {
      const uint32_t index = next_index_++;
      lock.unlock();
      auto made = make_segment(index);
      lock.lock();
      if (!made.is_ok()) {
        spare_failed = true;
        continue;
      }
      segments_.push_back(*made);
      free_.push_back(std::move(*made));
      continue;
    }
    auto retiring = sealed_;
    lock.unlock();
    auto flushed = flush_tables_();
    lock.lock();
    if (!flushed.is_ok()) {
      failed_flush_at = sealed_.size();
      continue;
    }
    failed_flush_at = 0;
    std::erase_if(sealed_, [&](const auto& segment) {
      return std::find(retiring.begin(), retiring.end(), segment) != retiring.end();
    });
    for (auto it = retiring.rbegin(); it != retiring.rend(); ++it) free_.push_back(*it);
  }
}

}  // namespace md::storage
