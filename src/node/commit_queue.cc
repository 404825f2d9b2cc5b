#include "node/commit_queue.h"

#include <algorithm>
#include <cassert>
#include <iterator>
#include <utility>

namespace md::node {

void CommitQueue::submit(std::vector<storage::Update> updates, Applied applied, Done done) {
  if (updates.empty()) return;
  next_.submitters.push_back(Submitter{updates.size(), std::move(applied), std::move(done)});
  for (auto& u : updates) next_.updates.push_back(std::move(u));
}

CommitQueue::Batch CommitQueue::take() { return std::exchange(next_, Batch{}); }

bool CommitQueue::Batch::wants_applied() const {
  return std::any_of(submitters.begin(), submitters.end(), [](const Submitter& s) { return bool(s.applied); });
}

void CommitQueue::Batch::applied(std::span<const storage::UpdateResult> results) const {
  assert(results.size() == updates.size());
  size_t next = 0;
  for (const auto& s : submitters) {
    if (s.applied) s.applied(results.subspan(next, s.updates));
    next += s.updates;
  }
}

void CommitQueue::Batch::complete(std::vector<storage::UpdateResult> results) {
  assert(results.size() == updates.size());
  size_t next = 0;
  for (auto& s : submitters) {
    std::vector<storage::UpdateResult> mine(std::make_move_iterator(results.begin() + next),
                                            std::make_move_iterator(results.begin() + next + s.updates));
    next += s.updates;
    s.done(std::move(mine));
  }
}

}  // namespace md::node
