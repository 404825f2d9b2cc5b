// Per-request replication parameters: N replicas, R replies for a read, W acknowledgements for a write.
#pragma once

#include <cstdint>
#include <optional>

#include "core/status.h"

namespace md::core {

struct Quorum {
  uint32_t n = 3, r = 2, w = 2;
};

// Fills what the client left out from `defaults`, clamping the defaults to the node count and
// R and W to N; then checks 1 <= N <= nodes, 1 <= R <= N, 1 <= W <= N. An error names the parameter.
Result<Quorum> resolve_quorum(std::optional<int64_t> n, std::optional<int64_t> r, std::optional<int64_t> w,
                              const Quorum& defaults, uint32_t nodes);

}  // namespace md::core
