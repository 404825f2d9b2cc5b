// Runs a node's fsynced writes on one thread, in batches.
//
// Whatever the io thread submits while one batch is being written and synced goes into the next
// batch: one engine write, one fsync, one hand-off to this thread and one back for the lot. This is
// group commit without a pool: under load a batch holds every write that queued during the last
// fsync, and an idle node's write goes out at once.
//
// A batch starts no sooner than one commit window after the previous one started. An fsync costs
// a lot of CPU besides its wait (the I/O submissions, the file-size update, the wake-ups), so under
// load fewer, larger batches leave more CPU to the requests; an idle node's write, long after the
// last batch, still goes out at once.
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
#include "storage/engine.h"

namespace md::runtime {

class DurableWriter final : public node::Committer {
 public:
  DurableWriter(storage::Engine& engine, boost::asio::io_context& completions, std::chrono::microseconds commit_window);
  // Writes everything already submitted, then stops the thread.
  ~DurableWriter() override;
  DurableWriter(const DurableWriter&) = delete;
  DurableWriter& operator=(const DurableWriter&) = delete;

  // `done` runs on the `completions` context.
  void submit(std::vector<storage::Update> updates, node::CommitQueue::Done done) override;

 private:
  void run();

  storage::Engine& engine_;
  boost::asio::io_context& completions_;
  const std::chrono::microseconds commit_window_;
  std::mutex mutex_;
  std::condition_variable wake_;
  node::CommitQueue queue_;
  bool idle_ = false;  // waiting for work, not for the end of a commit window
  bool stopping_ = false;
  std::thread thread_;  // last: starts after everything it uses exists
};

}  // namespace md::runtime
