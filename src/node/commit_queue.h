// Group commit's bookkeeping: updates queue up while a batch is being written and synced, and
// go out together in the next one; its results are handed back to each submitter in order.
//
// It decides nothing about time or threads: runtime/durable_writer.h drives it from its own
// thread, the simulator from virtual-time events. Not thread-safe; the driver locks.
#pragma once

#include <functional>
#include <vector>

#include "storage/engine.h"

namespace md::node {

class CommitQueue {
 public:
  // Called with one result per update that was submitted with it, in order.
  using Done = std::function<void(std::vector<storage::UpdateResult>)>;

  // What goes out together: the updates, and who gets which results.
  struct Batch {
    std::vector<storage::Update> updates;
    std::vector<std::pair<size_t, Done>> submitters;  // how many updates each submitted, in order

    // Hands each submitter its results; `results` holds one per update, in order.
    void complete(std::vector<storage::UpdateResult> results);
  };

  void submit(std::vector<storage::Update> updates, Done done);
  bool empty() const { return next_.updates.empty(); }
  // Everything submitted since the last take.
  Batch take();

 private:
  Batch next_;
};

}  // namespace md::node
