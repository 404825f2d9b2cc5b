#include "core/merkle_tree.h"

#include <xxhash.h>

#include "core/key_hash.h"

namespace md::core {

uint64_t object_hash(std::string_view object) {
  uint64_t h = XXH3_64bits(object.data(), object.size());
  return h == 0 ? 1 : h;
}

// The low bits: the partition takes the high ones, so a partition's keys spread over all segments.
uint32_t segment_of(std::string_view key) { return static_cast<uint32_t>(key_hash(key) % kSegments); }

void MerkleTree::update(std::string_view key, uint64_t before, uint64_t after) {
  if (before == after) return;
  // A key's contribution: its name hashed with its object's hash; absent keys contribute nothing.
  auto contribution = [&](uint64_t object) { return object == 0 ? 0 : XXH3_64bits_withSeed(key.data(), key.size(), object); };
  const uint64_t delta = contribution(before) ^ contribution(after);
  const uint32_t segment = segment_of(key);
  segments_[segment] ^= delta;
  inner_[segment / kSegmentsPerInner] ^= delta;
  root_ ^= delta;
}

}  // namespace md::core
