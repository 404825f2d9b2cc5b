#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "runtime/durable_writer.h"

#include <poll.h>
#include <pthread.h>

#include <algorithm>
#include <ctime>
#include <memory>

namespace md::runtime {

DurableWriter::DurableWriter(storage::Engine& engine, boost::asio::io_context& completions,
                             std::chrono::microseconds commit_window, CommitMetrics* metrics)
    : engine_(engine),
      completions_(net::Mailbox::of(completions)),
      commit_window_(commit_window),
      metrics_(metrics),
      thread_([this] { run(); }) {}

DurableWriter::~DurableWriter() {
  stopping_ = true;  // after every submission this thread made: the writer's last take sees them all
  submitted_.signal();
  thread_.join();
}

void DurableWriter::submit(std::vector<storage::Update> updates, node::CommitQueue::Applied applied,
                           node::CommitQueue::Done done) {
  if (updates.empty()) return;
  // Wakes the writer only if it waits for work: one that writes, or waits out its commit window,
  // holds the queue's signal and takes this with the rest when it comes back for more.
  submitted_.push(Submission{std::move(updates), std::move(applied), std::move(done)});
}

void DurableWriter::wait(std::optional<std::chrono::steady_clock::time_point> deadline) {
  pollfd ready{submitted_.fd(), POLLIN, 0};
  timespec timeout{};
  if (deadline) {
    const auto left = std::max(*deadline - std::chrono::steady_clock::now(), std::chrono::steady_clock::duration::zero());
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    timeout = timespec{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  }
  ::ppoll(&ready, 1, deadline ? &timeout : nullptr, nullptr);  // EINTR: the caller looks again anyway
  submitted_.clear();
}

void DurableWriter::run() {
  pthread_setname_np(pthread_self(), "md-commit");  // top -H, perf, bench/threads.sh
  auto window_ends = std::chrono::steady_clock::now();
  bool holding = false;  // the queue's signal is ours: look without waiting
  node::CommitQueue queue;
  while (true) {
    if (!holding) wait(std::nullopt);  // a submission, or the stop
    // What arrives during the window joins this batch; only the stop cuts it short (the signal is
    // held, so submissions write nothing to the queue's eventfd).
    if (!stopping_ && std::chrono::steady_clock::now() < window_ends) wait(window_ends);
    const bool stopping = stopping_;  // read before taking: everything submitted before the stop is in the queue
    while (auto s = submitted_.pop()) queue.submit(std::move(s->updates), std::move(s->applied), std::move(s->done));
    if (!queue.empty()) {
      node::CommitQueue::Batch batch = queue.take();
      // A batch of one write holds back nothing after it: its writes come one at a time.
      const auto now = std::chrono::steady_clock::now();
      window_ends = batch.updates.size() > 1 ? now + commit_window_ : now;
      commit(std::move(batch));
    }
    if (stopping) return;
    holding = submitted_.rearm();
  }
}

void DurableWriter::commit(node::CommitQueue::Batch batch) {
  const auto started = std::chrono::steady_clock::now();
  // The batch's callbacks run on the completions context, in the order they are posted; this
  // thread only reads its updates, in prepare().
  auto shared = std::make_shared<node::CommitQueue::Batch>(std::move(batch));
  auto prepared = engine_.prepare(shared->updates);
  if (shared->wants_applied()) {
    completions_.post([shared, results = prepared->results] { shared->applied(results); });
  }
  auto results = engine_.commit(std::move(prepared));
  if (metrics_) {
    metrics_->seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    metrics_->writes.observe(static_cast<double>(shared->updates.size()));
  }
  completions_.post([shared = std::move(shared), results = std::move(results)]() mutable {
    shared->complete(std::move(results));
  });
}

}  // namespace md::runtime
