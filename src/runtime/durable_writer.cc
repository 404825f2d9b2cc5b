#include <utility>  // before Asio: g++ 12 with Boost 1.74 needs it first

#include "runtime/durable_writer.h"

#include <boost/asio/post.hpp>

namespace md::runtime {

DurableWriter::DurableWriter(storage::Engine& engine, boost::asio::io_context& completions,
                             std::chrono::microseconds commit_window)
    : engine_(engine), completions_(completions), commit_window_(commit_window), thread_([this] { run(); }) {}

DurableWriter::~DurableWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void DurableWriter::submit(std::vector<storage::Update> updates, Done done) {
  if (updates.empty()) return;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    submissions_.push_back(Submission{updates.size(), std::move(done)});
    for (auto& u : updates) queued_.push_back(std::move(u));
    wake = idle_;
  }
  // Only an idle thread needs waking: one that waits out its commit window takes the queue when
  // the window ends, and waking it for nothing would cost a context switch per submission.
  if (wake) wake_.notify_one();
}

void DurableWriter::run() {
  auto window_ends = std::chrono::steady_clock::now();
  while (true) {
    std::vector<storage::Update> batch;
    std::vector<Submission> submissions;
    {
      std::unique_lock lock(mutex_);
      idle_ = true;
      wake_.wait(lock, [this] { return stopping_ || !queued_.empty(); });
      idle_ = false;
      if (queued_.empty()) return;  // stopping, and nothing left to write
      wake_.wait_until(lock, window_ends, [this] { return stopping_; });  // what arrives meanwhile joins
      window_ends = std::chrono::steady_clock::now() + commit_window_;
      batch.swap(queued_);
      submissions.swap(submissions_);
    }
    auto results = engine_.update_all(batch);
    boost::asio::post(completions_, [submissions = std::move(submissions), results = std::move(results)]() mutable {
      size_t next = 0;
      for (auto& s : submissions) {
        std::vector<storage::UpdateResult> mine(std::make_move_iterator(results.begin() + next),
                                                std::make_move_iterator(results.begin() + next + s.count));
        next += s.count;
        s.done(std::move(mine));
      }
    });
  }
}

}  // namespace md::runtime
