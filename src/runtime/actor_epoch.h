// Keeps a node's actor epoch (core/actor_epoch.h) in its data dir: the epoch in EPOCH, and a
// RUNNING marker that tells a clean stop from a crash. The core decides the epoch; this is its
// memory across restarts.
#pragma once

#include <cstdint>
#include <string>

#include "core/actor_epoch.h"
#include "core/status.h"

namespace md::runtime {

class ActorEpoch {
 public:
  // Reads the previous run's epoch kept in `data_dir` and whether it crashed (RUNNING left behind),
  // and chooses this run's epoch by core::next_epoch(). Writes nothing.
  static Result<ActorEpoch> read(const std::string& data_dir, const std::string& node_id,
                                 bool state_survives_restarts);
  // Keeps the epoch and the RUNNING marker (fsynced): call it once the node holds its ports.
  Status begin() const;

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
