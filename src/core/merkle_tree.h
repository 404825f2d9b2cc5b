// The anti-entropy hash tree of one partition: what two replicas compare to find, cheaply, the few
// keys on which they differ.
//
// Keys fall into kSegments segments by their hash. A segment's hash combines, for each key in it,
// a hash of the key and of its stored object; the tree above has kFanout inner nodes of
// kSegments / kFanout segments each, and a root. The combination is XOR, so a write updates the
// tree in O(1) from the object it replaced and the one it stored (no rebuild, no per-key state in
// memory), and a tree is rebuilt on start by loading every key once. Two replicas compare roots,
// then the inner nodes that differ, then those nodes' segments, and only then exchange the keys of
// the differing segments.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

namespace md::core {

inline constexpr uint32_t kSegments = 1024;
inline constexpr uint32_t kFanout = 32;  // inner nodes; each covers kSegments / kFanout segments
inline constexpr uint32_t kSegmentsPerInner = kSegments / kFanout;

// The hash of a stored object's bytes; 0 stands for "absent" (a real hash of 0 is remapped).
uint64_t object_hash(std::string_view object);
// The segment of a key within its partition.
uint32_t segment_of(std::string_view key);

class MerkleTree {
 public:
  // `key` went from an object with hash `before` to one with hash `after` (0: absent).
  void update(std::string_view key, uint64_t before, uint64_t after);

  uint64_t root() const { return root_; }
  const std::array<uint64_t, kFanout>& inner() const { return inner_; }
  // The segments under inner node `i`.
  std::span<const uint64_t> segments_of(uint32_t i) const {
    return std::span<const uint64_t>(segments_).subspan(i * kSegmentsPerInner, kSegmentsPerInner);
  }

 private:
  uint64_t root_ = 0;
  std::array<uint64_t, kFanout> inner_{};
  std::array<uint64_t, kSegments> segments_{};
};

}  // namespace md::core
