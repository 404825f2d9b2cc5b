// Group commit's bookkeeping: updates queue up while a batch is being written and synced, and
// go out together in the next one; its results are handed back to each submitter in order: what
// the updates decided once the batch is prepared (storage::Engine::prepare), to the submitters
// that ask, and what became of them once it is written and synced.
//
// It decides nothing about time or threads: runtime/durable_writer.h drives it from its own
// thread, the simulator from virtual-time events. Not thread-safe; the driver locks.
#pragma once

#include <functional>
#include <span>
#include <vector>

#include "storage/engine.h"

namespace md::node {

class CommitQueue {
 public:
  // Called with one result per update that was submitted with it, in order.
  using Done = std::function<void(std::vector<storage::UpdateResult>)>;
  // Called with what each update submitted with it decided, in order, before they are written.
  using Applied = std::function<void(std::span<const storage::UpdateResult>)>;

  struct Submitter {
    size_t updates = 0;  // how many it submitted
    Applied applied;     // may be empty
    Done done;
  };
  // What goes out together: the updates, and who gets which results.
  struct Batch {
    std::vector<storage::Update> updates;
    std::vector<Submitter> submitters;  // in order

    // Whether a submitter asked to hear what its updates decided.
    bool wants_applied() const;
    // Hands each submitter that asked what its updates decided; `results` holds one per update.
    void applied(std::span<const storage::UpdateResult> results) const;
    // Hands each submitter its results; `results` holds one per update, in order.
    void complete(std::vector<storage::UpdateResult> results);
  };

  void submit(std::vector<storage::Update> updates, Applied applied, Done done);
  bool empty() const { return next_.updates.empty(); }
  // Everything submitted since the last take.
  Batch take();

 private:
  Batch next_;
};

}  // namespace md::node
