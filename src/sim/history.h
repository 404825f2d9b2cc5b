// What the simulated clients did and saw: the input of the checker.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/version_vector.h"

namespace md::sim {

enum class OpKind { read, write, blind_write, remove };

struct HistoryOp {
  size_t client = 0;
  OpKind kind = OpKind::read;
  std::string key;
  std::string value;                            // writes: unique per write
  uint32_t n = 3, r = 0, w = 0;
  bool sloppy = true;                           // writes: sloppy quorum (else strict)
  uint64_t start_ms = 0, end_ms = 0;
  bool calm = false;                            // issued after the faults healed
  std::optional<core::Outcome> outcome;         // nullopt: no answer (counts as indeterminate)
  core::VersionVector read_context;             // reads: the context the answer carried
  std::vector<std::string> read_values;         // reads: live sibling values
};

using History = std::vector<HistoryOp>;

}  // namespace md::sim
