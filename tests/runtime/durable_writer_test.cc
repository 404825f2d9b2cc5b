#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "runtime/durable_writer.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <condition_variable>
#include <initializer_list>
#include <mutex>
#include <thread>

namespace md::runtime {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// An engine in memory that records when each batch started and how many updates it held, and
// whose commits wait while held().
class RecordingEngine final : public storage::Engine {
 public:
  struct Batch {
    Clock::time_point at;
    size_t updates;
  };
  Status get(storage::Partition p, std::string_view key, std::string* value) override { return inner_->get(p, key, value); }
  std::unique_ptr<storage::PreparedBatch> prepare(std::span<const storage::Update> updates) override {
    {
      std::lock_guard lock(mutex_);
      batches_.push_back(Batch{Clock::now(), updates.size()});  // when the batch starts
    }
    return inner_->prepare(updates);
  }
  std::vector<storage::UpdateResult> commit(std::unique_ptr<storage::PreparedBatch> batch) override {
    {
      std::unique_lock lock(mutex_);
      released_.wait(lock, [this] { return !held_; });
      ++commits_;
    }
    return inner_->commit(std::move(batch));
  }
  Status remove(storage::Partition p, std::string_view key) override { return inner_->remove(p, key); }
  Status for_each(storage::Partition p, std::optional<std::string_view> after, const storage::Visitor& visit) override {
    return inner_->for_each(p, after, visit);
  }
  Status sync() override { return Status::ok(); }
  std::vector<Batch> batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  int commits() {
    std::lock_guard lock(mutex_);
    return commits_;
  }
  // While held, commits wait (as a slow fsync would).
  void hold(bool held) {
    {
      std::lock_guard lock(mutex_);
      held_ = held;
    }
    released_.notify_all();
  }

 private:
  std::unique_ptr<storage::Engine> inner_ = storage::make_memory_engine();
  std::mutex mutex_;
  std::condition_variable released_;
  bool held_ = false;
  std::vector<Batch> batches_;  // started
  int commits_ = 0;
};

std::vector<storage::Update> updates_of(std::initializer_list<std::string> keys) {
  std::vector<storage::Update> updates;
  for (const auto& key : keys) {
    updates.push_back(storage::Update{0, key, [](std::optional<std::string_view>) -> Result<std::optional<std::string>> {
                                        return std::optional<std::string>("v");
                                      }});
  }
  return updates;
}

class DurableWriterTest : public ::testing::Test {
 protected:
  // Submits one update of `key`; `done` counts the updates completed on io_.
  void submit(DurableWriter& writer, std::string key, node::CommitQueue::Applied applied = nullptr) {
    submit_together(writer, {std::move(key)}, std::move(applied));
  }
  // Submits an update of each key in one submission: they go into one batch.
  void submit_together(DurableWriter& writer, std::initializer_list<std::string> keys,
                       node::CommitQueue::Applied applied = nullptr) {
    writer.submit(updates_of(keys), std::move(applied), [this, n = keys.size()](std::vector<storage::UpdateResult> results) {
      ASSERT_EQ(results.size(), n);
      for (const auto& r : results) EXPECT_TRUE(r.status.is_ok());
      done_ += static_cast<int>(n);
    });
  }
  // Runs completions until `count` updates are done.
  void run_until_done(int count) {
    io_.restart();  // an earlier call may have left it stopped, out of work
    auto guard = boost::asio::make_work_guard(io_);
    while (done_ < count) io_.run_one();
  }
  boost::asio::io_context io_;
  RecordingEngine engine_;
  int done_ = 0;
};

TEST_F(DurableWriterTest, a_batch_starts_no_sooner_than_one_commit_window_after_the_last) {
  DurableWriter writer(engine_, io_, 300ms);
  submit_together(writer, {"a1", "a2"});
  run_until_done(2);
  submit(writer, "b");
  run_until_done(3);
  auto batches = engine_.batches();
  ASSERT_EQ(batches.size(), 2u);
  // The engine sees each batch a few microseconds after the writer started its window; without
  // the window the second batch would start at once.
  EXPECT_GE(batches[1].at - batches[0].at, 299ms);
}

TEST_F(DurableWriterTest, writes_that_arrive_within_the_window_share_its_batch) {
  DurableWriter writer(engine_, io_, 1s);
  submit_together(writer, {"a1", "a2"});
  run_until_done(2);
  // Writes arriving 20 ms apart (the load pattern under test, not a wait for anything): without
  // the window, the writer would have taken b alone long before c came.
  for (const char* key : {"b", "c", "d"}) {
    submit(writer, key);
    std::this_thread::sleep_for(20ms);
  }
  run_until_done(5);
  auto batches = engine_.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0].updates, 2u);
  EXPECT_EQ(batches[1].updates, 3u);
}

// Writes that come one at a time (a client waiting for each answer) gain nothing from the window:
// after a batch of one write the next starts at once.
TEST_F(DurableWriterTest, after_a_batch_of_one_write_the_next_starts_at_once) {
  DurableWriter writer(engine_, io_, 2s);
  submit(writer, "a");
  run_until_done(1);
  submit(writer, "b");
  run_until_done(2);
  auto batches = engine_.batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_LT(batches[1].at - batches[0].at, 1s);  // with the window after "a": 2 s
}

TEST_F(DurableWriterTest, what_the_updates_decided_is_reported_while_their_write_is_still_running) {
  DurableWriter writer(engine_, io_, 0ms);
  engine_.hold(true);
  std::vector<std::string> decided;
  submit(writer, "a", [&](std::span<const storage::UpdateResult> results) {
    ASSERT_EQ(results.size(), 1u);
    decided.push_back(results[0].stored);
  });
  auto guard = boost::asio::make_work_guard(io_);
  while (decided.empty()) io_.run_one();  // the commit is held: only `applied` can arrive
  EXPECT_EQ(decided, std::vector<std::string>{"v"});
  EXPECT_EQ(done_, 0);
  EXPECT_EQ(engine_.commits(), 0);
  engine_.hold(false);
  run_until_done(1);
  EXPECT_EQ(engine_.commits(), 1);
}

TEST_F(DurableWriterTest, stopping_writes_what_was_submitted_without_waiting_out_the_window) {
  auto writer = std::make_unique<DurableWriter>(engine_, io_, 1h);
  submit_together(*writer, {"a1", "a2"});  // two writes: the window holds the next batch
  run_until_done(2);
  submit(*writer, "b");
  writer.reset();  // would hang for an hour if the window held the last batch
  ASSERT_EQ(engine_.batches().size(), 2u);
  std::string value;
  EXPECT_TRUE(engine_.get(0, "b", &value).is_ok());
}

}  // namespace
}  // namespace md::runtime
