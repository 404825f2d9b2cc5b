// Claim: which physical node owns each of the ring's Q partitions (its virtual nodes).
//
// Promises, for the same inputs in any process:
//  - balance: every member owns floor(Q/k) or ceil(Q/k) partitions;
//  - minimal movement: partitions move only away from departed members, away from members above
//    their new share, and towards members below it; when a member joins, partitions move only
//    to it (never between existing members); when one leaves, only its partitions move;
//  - determinism: the result depends only on the previous owners and the member list.
// A first claim (no previous owners) deals partitions round-robin over the members in id order,
// which spreads each member's partitions evenly around the ring.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace md::core {

// owners[p] is the member id owning partition p; an empty `previous` means a first claim.
// `members` must be non-empty and hold distinct ids; `partitions` is Q.
std::vector<std::string> claim(const std::vector<std::string>& previous, std::vector<std::string> members,
                               uint32_t partitions);

}  // namespace md::core
