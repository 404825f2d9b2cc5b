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
// The hand-offs take no lock: submissions come through a lock-free queue (net/handoff.h) whose
// eventfd the thread polls, and the outcomes go back through the completions context's mailbox
// (net/mailbox.h).
//
// A batch starts no sooner than one commit window after the previous one started, if that one held
// more than one write. An fsync costs a lot of CPU besides its wait (the I/O submissions, the
// file-size update, the wake-ups), so under load fewer, larger batches leave more CPU to the
// requests. After a batch of one write the next starts at once: writes that come one at a time (a
// client that waits for each answer, an idle node) would only pay the window in their latency.
#pragma once

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "net/handoff.h"
#include "net/mailbox.h"
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
  struct Submission {
    std::vector<storage::Update> updates;
    node::CommitQueue::Applied applied;
    node::CommitQueue::Done done;
  };
  void run();
  // Writes and syncs one batch and hands its outcomes back.
  void commit(node::CommitQueue::Batch batch);
  // Until the queue signals (a submission, or the stop), or until `deadline` if there is one.
  void wait(std::optional<std::chrono::steady_clock::time_point> deadline);

  storage::Engine& engine_;
  net::Mailbox& completions_;
  const std::chrono::microseconds commit_window_;
  CommitMetrics* metrics_;
  net::Handoff<Submission> submitted_;
  std::atomic<bool> stopping_ = false;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace md::runtime
