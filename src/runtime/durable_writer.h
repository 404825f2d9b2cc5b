// Runs a node's fsynced writes on one thread (named md-commit), in batches; with I/O threads
// (--threads 2 or more) its other writes too, with no commit window and no fsync (docs/design.md,
// "Threads").
//
// Whatever the io thread submits while one batch is being written and synced goes into the next
// batch: one engine write, one fsync, one hand-off to this thread and one back for the lot (two
// when a submitter asked to hear what its updates decided before their write and sync). This is
// group commit without a pool: under load a batch holds every write that queued during the last
// fsync, and an idle node's write goes out at once.
//
// A batch starts no sooner than one commit window after the previous one started, if that one held
// more than one write. An fsync costs a lot of CPU besides its wait (the I/O submissions, the
// file-size update, the wake-ups), so under load fewer, larger batches leave more CPU to the
// requests. After a batch of one write the next starts at once: writes that come one at a time (a
// client that waits for each answer, an idle node) would only pay the window in their latency.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "node/commit_queue.h"
#include "node/effect_runner.h"
#include "runtime/metrics.h"
#include "storage/engine.h"

namespace md::runtime {

// What the writer reports (GET /metrics): each batch's engine write and fsync, and its size.
struct CommitMetrics {
  Histogram seconds{Histogram::latency_seconds()};
  Histogram writes{{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}};
};

class DurableWriter final : public node::Committer {
 public:
  // `metrics`, if given, outlives the writer and records every batch.
  DurableWriter(storage::Engine& engine, boost::asio::io_context& completions, std::chrono::microseconds commit_window,
                CommitMetrics* metrics = nullptr);
  // Writes everything already submitted, then stops the thread.
  ~DurableWriter() override;
  DurableWriter(const DurableWriter&) = delete;
  DurableWriter& operator=(const DurableWriter&) = delete;

  // `applied` and `done` run on the `completions` context.
  void submit(std::vector<storage::Update> updates, node::CommitQueue::Applied applied,
              node::CommitQueue::Done done) override;

 private:
  void run();

  storage::Engine& engine_;
  boost::asio::io_context& completions_;
  const std::chrono::microseconds commit_window_;
  CommitMetrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  node::CommitQueue queue_;
  bool idle_ = false;  // waiting for work, not for the end of a commit window
  bool stopping_ = false;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace md::runtime
