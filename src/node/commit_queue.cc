#include "node/commit_queue.h"

#include <cassert>
#include <iterator>
#include <utility>

namespace md::node {

void CommitQueue::submit(std::vector<storage::Update> updates, Done done) {
  if (updates.empty()) return;
  next_.submitters.emplace_back(updates.size(), std::move(done));
  for (auto& u : updates) next_.updates.push_back(std::move(u));
}

CommitQueue::Batch CommitQueue::take() { return std::exchange(next_, Batch{}); }

void CommitQueue::Batch::complete(std::vector<storage::UpdateResult> results) {
  assert(results.size() == updates.size());
  size_t next = 0;
  for (auto& [count, done] : submitters) {
    std::vector<storage::UpdateResult> mine(std::make_move_iterator(results.begin() + next),
                                            std::make_move_iterator(results.begin() + next + count));
    next += count;
    done(std::move(mine));
  }
}

}  // namespace md::node
