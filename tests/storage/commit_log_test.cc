// The commit log on its own: what a reopen replays, torn and stale records, and segments reused.
#include "storage/commit_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>

namespace md::storage {
namespace {

namespace fs = std::filesystem;

class CommitLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("md-commit-log-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Opens the log; what it replays lands in replayed_, and each table flush counts.
  std::unique_ptr<CommitLog> open(uint64_t segment_bytes = 4096) {
    replayed_.clear();
    auto log = CommitLog::open(
        CommitLogOptions{dir_.string(), segment_bytes, nullptr},
        [this](std::string_view payload) {
          replayed_.emplace_back(payload);
          return Status::ok();
        },
        [this] {
          ++flushes_;
          return Status::ok();
        });
    EXPECT_TRUE(log.is_ok()) << log.status().message();
    return log.is_ok() ? std::move(log).value() : nullptr;
  }

  // Appends a record and reports it applied, as the engine does.
  static void write(CommitLog& log, const std::string& payload) {
    auto seq = log.append(payload);
    ASSERT_TRUE(seq.is_ok()) << seq.status().message();
    log.applied(*seq);
  }

  // The retiring thread frees segments after its flush returns, which nothing here can wait on:
  // this polls for it, for up to 10 s.
  static void await_free_segment(CommitLog& log) {
    for (int i = 0; i < 10000 && log.stats().free_segments == 0; ++i) ::usleep(1000);
  }

  static std::string record(int i) { return "record-" + std::to_string(i) + std::string(static_cast<size_t>(i % 300), 'x'); }

  fs::path dir_;
  std::vector<std::string> replayed_;
  std::atomic<int> flushes_{0};
};

TEST_F(CommitLogTest, a_reopen_replays_the_last_run_in_order_and_then_starts_afresh) {
  {
    auto log = open();
    ASSERT_TRUE(replayed_.empty());
    for (int i = 0; i < 5; ++i) write(*log, record(i));
    ASSERT_TRUE(log->sync_all().is_ok());
  }
  auto log = open();
  ASSERT_EQ(replayed_.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(replayed_[static_cast<size_t>(i)], record(i));
  // The new run's records replace the old ones: a reopen replays only them.
  write(*log, "after");
  ASSERT_TRUE(log->sync_all().is_ok());
  log = nullptr;
  log = open();
  EXPECT_EQ(replayed_, std::vector<std::string>{"after"});
}

TEST_F(CommitLogTest, after_mark_flushed_a_reopen_replays_nothing_and_a_crash_after_that_only_the_new_run) {
  {
    auto log = open();
    write(*log, "flushed");
    ASSERT_TRUE(log->sync_all().is_ok());
    ASSERT_TRUE(log->mark_flushed().is_ok());
  }
  auto log = open();
  EXPECT_TRUE(replayed_.empty());
  write(*log, "new");
  ASSERT_TRUE(log->sync_all().is_ok());
  log = nullptr;  // no mark_flushed: as after a crash
  log = open();
  EXPECT_EQ(replayed_, std::vector<std::string>{"new"});
}

TEST_F(CommitLogTest, a_torn_record_ends_the_replay_before_it) {
  {
    auto log = open();
    for (int i = 0; i < 3; ++i) write(*log, record(i));
    ASSERT_TRUE(log->sync_all().is_ok());
  }
  // One byte of the third record's payload flipped, as a write torn by a power cut leaves it.
  auto segment = dir_ / "segment-000001";
  const auto offset = static_cast<std::streamoff>(2 * 24 + record(0).size() + record(1).size() + 24 + 3);
  std::fstream file(segment, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(offset);
  char byte = 0;
  file.read(&byte, 1);
  file.seekp(offset);
  byte = static_cast<char>(byte ^ 0x20);
  file.write(&byte, 1);
  file.close();

  auto log = open();
  EXPECT_EQ(replayed_, (std::vector<std::string>{record(0), record(1)}));
}

TEST_F(CommitLogTest, full_segments_are_reused_once_their_records_are_applied_and_the_tables_flushed) {
  constexpr int kRecords = 2000;  // about 100 segments of 4 KiB
  {
    auto log = open();
    for (int i = 0; i < kRecords; ++i) {
      write(*log, record(i));
      // Every tenth of the way, the retiring thread gets its turn (on a busy machine it may not
      // get one while the writer runs).
      if (i % (kRecords / 10) == kRecords / 10 - 1) await_free_segment(*log);
    }
    ASSERT_TRUE(log->sync_all().is_ok());
    EXPECT_GT(flushes_.load(), 1);
    EXPECT_LT(log->stats().segments, 40u);  // of about 100 segments' worth written
  }
  // The replay is the run's newest records, contiguous and in order, up to its last: never an old
  // record from the tail of a reused segment.
  auto log = open();
  ASSERT_FALSE(replayed_.empty());
  const int first = kRecords - static_cast<int>(replayed_.size());
  for (size_t i = 0; i < replayed_.size(); ++i) EXPECT_EQ(replayed_[i], record(first + static_cast<int>(i)));
}

TEST_F(CommitLogTest, a_segment_waits_for_its_records_to_be_applied_before_it_is_reused) {
  auto log = open();
  auto held = log->append(record(0));
  ASSERT_TRUE(held.is_ok());
  for (int i = 1; i < 400; ++i) write(*log, record(i));  // about sixteen segments
  ASSERT_TRUE(log->sync_all().is_ok());
  const int flushes_before = flushes_.load();
  EXPECT_EQ(log->stats().free_segments, 0u);
  EXPECT_GE(log->stats().segments, 8u);

  log->applied(*held);
  await_free_segment(*log);
  EXPECT_GT(log->stats().free_segments, 0u);
  EXPECT_GT(flushes_.load(), flushes_before);
}

TEST_F(CommitLogTest, a_record_larger_than_a_segment_gets_one_of_its_own) {
  const std::string large(10000, 'L');
  {
    auto log = open();
    // Never reported applied, so that no segment is retired and reused: all three come back.
    for (const auto& payload : {std::string("small"), large, std::string("next")}) ASSERT_TRUE(log->append(payload).is_ok());
    ASSERT_TRUE(log->sync_all().is_ok());
    EXPECT_GE(log->stats().segments, 3u);
  }
  auto log = open();
  EXPECT_EQ(replayed_, (std::vector<std::string>{"small", large, "next"}));
}

TEST_F(CommitLogTest, a_run_file_that_is_not_a_number_is_refused_with_its_path) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "RUN") << "garbage";
  auto log = CommitLog::open(
      CommitLogOptions{dir_.string(), 4096, nullptr}, [](std::string_view) { return Status::ok(); },
      [] { return Status::ok(); });
  ASSERT_FALSE(log.is_ok());
  EXPECT_NE(log.status().message().find((dir_ / "RUN").string()), std::string::npos) << log.status().message();
}

}  // namespace
}  // namespace md::storage
