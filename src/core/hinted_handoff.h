// Hinted handoff's storage layout: where a node keeps the writes it holds for other nodes.
//
// A fallback node (or a coordinator whose replica did not acknowledge in time) keeps a write for
// a down replica as a *hint*: the encoded object under a key that names the intended owner, in
// its own key space of the engine. The storage key prefix kHintPartition is never a ring
// partition (rings have at most kPartitionsMax = 32768 partitions), so hints never mix with data:
// a scan of a data partition never sees them, and a scan of kHintPartition sees only hints. Hints
// for the same owner and key are merged like replicas (DVV sync), so the hint store grows with
// the keys written while an owner was down, never with the writes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ring.h"
#include "core/status.h"

namespace md::core {

inline constexpr uint32_t kHintPartition = 0xffff;
static_assert(kHintPartition >= kPartitionsMax, "the hint store must not share a prefix with a ring partition");

struct HintAddress {
  std::string owner;  // the intended owner's member id (ring.h), stable across restarts
  std::string key;
};

// The storage key of a hint: version byte, u16 big-endian owner length, owner, key. Sorted by
// owner, then key.
std::string encode_hint_key(std::string_view owner, std::string_view key);
// Code::corruption for bytes that are not a hint key of this version.
Result<HintAddress> decode_hint_key(std::string_view bytes);

}  // namespace md::core
