#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "runtime/durable_writer.h"

#include <boost/asio/post.hpp>
#include <pthread.h>

#include <memory>

namespace md::runtime {

DurableWriter::DurableWriter(storage::Engine& engine, boost::asio::io_context& completions,
                             std::chrono::microseconds commit_window, CommitMetrics* metrics)
    : engine_(engine),
      completions_(completions),
      commit_window_(commit_window),
      metrics_(metrics),
      thread_([this] { run(); }) {}

DurableWriter::~DurableWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void DurableWriter::submit(std::vector<storage::Update> updates, node::CommitQueue::Applied applied,
                           node::CommitQueue::Done done) {
  if (updates.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    queue_.submit(std::move(updates), std::move(applied), std::move(done));
    wake = idle_;
  }
  // Only an idle thread needs waking: one that waits out its commit window takes the queue when
  // the window ends, and waking it for nothing would cost a context switch per submission.
  if (wake) wake_.notify_one();
}

void DurableWriter::run() {
  pthread_setname_np(pthread_self(), "md-commit");  // top -H, perf, bench/threads.sh
  auto window_ends = std::chrono::steady_clock::now();
  while (true) {
    node::CommitQueue::Batch batch;
    {
      std::unique_lock lock(mutex_);
      idle_ = true;
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      idle_ = false;
      if (queue_.empty()) return;  // stopping, and nothing left to write
      wake_.wait_until(lock, window_ends, [this] { return stopping_; });  // what arrives meanwhile joins
      batch = queue_.take();
      // A batch of one write holds back nothing after it: its writes come one at a time.
      const auto now = std::chrono::steady_clock::now();
      window_ends = batch.updates.size() > 1 ? now + commit_window_ : now;
    }
    const auto started = std::chrono::steady_clock::now();
    // The batch's callbacks run on the completions context, in the order they are posted; this
    // thread only reads its updates, in prepare().
    auto shared = std::make_shared<node::CommitQueue::Batch>(std::move(batch));
    auto prepared = engine_.prepare(shared->updates);
    if (shared->wants_applied()) {
      boost::asio::post(completions_, [shared, results = prepared->results] { shared->applied(results); });
    }
    auto results = engine_.commit(std::move(prepared));
    if (metrics_) {
      metrics_->seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
      metrics_->writes.observe(static_cast<double>(shared->updates.size()));
    }
    boost::asio::post(completions_, [shared = std::move(shared), results = std::move(results)]() mutable {
      shared->complete(std::move(results));
    });
  }
}

}  // namespace md::runtime
