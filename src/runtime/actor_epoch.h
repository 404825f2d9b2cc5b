// The actor id under which a node makes dots, safe across crashes that lose recent writes.
//
// A coordinator numbers its writes' dots from the counter its own stored object holds. If a crash
// loses writes it already sent to replicas (--sync interval or none, or the memory engine), the
// counter comes back lower and the node makes the same dot again for a different write; replicas
// then take the two writes for one and one of them is silently lost (Riak's kv679). So the node
// writes under an actor id with an epoch: its node id while nothing was lost, "<node id>~<n>"
// after the n-th start that may have lost acknowledged writes. A new actor has never made a dot,
// so its counters start afresh. The epoch is kept in the data dir (EPOCH), and a RUNNING marker
// there tells a clean stop from a crash.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace md::runtime {

class ActorEpoch {
 public:
  // Reads the epoch kept in `data_dir` and starts a new one when the previous run may have lost
  // acknowledged writes: it crashed (RUNNING left behind) and `synced_writes` is false, or
  // `state_survives_restarts` is false and the node ran before. Persists the epoch and the RUNNING
  // marker (fsynced) before returning.
  static Result<ActorEpoch> begin(const std::string& data_dir, const std::string& node_id, bool synced_writes,
                                  bool state_survives_restarts);

  // The id to make dots under: the node id in epoch 0, else "<node id>~<epoch>".
  const std::string& actor() const { return actor_; }
  uint32_t epoch() const { return epoch_; }
  bool previous_run_crashed() const { return crashed_; }
  bool renewed() const { return renewed_; }  // this start began a new epoch

  // A clean stop, after the engine synced everything: removes the RUNNING marker.
  void end() const;

 private:
  std::string data_dir_;
  std::string actor_;
  uint32_t epoch_ = 0;
  bool crashed_ = false;
  bool renewed_ = false;
};

}  // namespace md::runtime
