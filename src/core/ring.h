// The ring: the 64-bit key-hash space cut into Q equal, fixed partitions, each owned by one member.
//
// A key's partition is the top log2(Q) bits of its XXH3 hash. Its preference list is the first N
// distinct members met walking the ring clockwise from that partition; the first N are its
// replicas. When members are in zones (--zone), the walk takes the first member of each zone it
// meets, then the second of each, and so on (in walk order within a round), so any N replicas span
// min(N, zones) zones: losing a whole zone loses no key when N >= the number of zones (Cassandra's
// NetworkTopologyStrategy). Without zones, or with one, the walk is the plain one. Members are numbered by their position in the member list (a MemberIndex): id order
// for a founding ring, joining order after that (core/cluster_state.h), so the same in every
// process. Walks are made of the members that own partitions (serving members): a member that owns
// none (a joiner whose partitions are still being transferred to it, or a member that has left)
// is in no preference list. Lookups are O(1): the walk of every partition is computed once when
// the ring is built.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace md::core {

using MemberIndex = uint32_t;

inline constexpr uint32_t kDefaultPartitions = 256;
inline constexpr uint32_t kPartitionsMax = 32768;  // prefixes above are free: the hint store (hinted_handoff.h)
// A ring keeps every partition's walk over all members (Q x members indexes): bounded so that a
// cluster state from elsewhere cannot ask for gigabytes.
inline constexpr size_t kMembersMax = 1024;

class Ring {
 public:
  // A founding ring over `members` (distinct ids, numbered in id order) with `partitions` (a power
  // of two, 2..32768) dealt by a first claim. Errors name the offending parameter.
  static Result<Ring> create(std::vector<std::string> members, uint32_t partitions);
  // A ring with the given owners (owners[p] is a member id), e.g. from claim() after a join;
  // members keep the order given.
  static Result<Ring> from_owners(std::vector<std::string> members, const std::vector<std::string>& owners);
  // The same with owners given as member indexes (core/cluster_state.h), each member's zone
  // (zones[m]; empty: no member has one), and which members have left the cluster (departed[m];
  // empty: none; they must own nothing). At most kMembersMax members; linear in Q x members.
  static Result<Ring> from_indexes(std::vector<std::string> members, std::vector<MemberIndex> owners,
                                   const std::vector<std::string>& zones = {}, std::vector<bool> departed = {});

  uint32_t partitions() const { return static_cast<uint32_t>(owner_.size()); }
  uint32_t partition_of(uint64_t hash) const { return static_cast<uint32_t>((hash >> 1) >> (63 - log2_q_)); }
  uint32_t partition_of_key(std::string_view key) const;

  // The first n distinct members walking from `partition`; requires 1 <= n <= serving().
  std::span<const MemberIndex> preference_list(uint32_t partition, size_t n) const;
  // The whole walk from `partition`: every serving member.
  std::span<const MemberIndex> walk(uint32_t partition) const { return preference_list(partition, serving_); }

  const std::vector<std::string>& members() const { return members_; }
  // How many members own partitions: the most replicas a key can have.
  size_t serving() const { return serving_; }
  // Member m left the cluster: it takes part in nothing (gossip, reaping, listings).
  bool departed(MemberIndex m) const { return !departed_.empty() && departed_[m]; }
  MemberIndex owner(uint32_t partition) const { return owner_[partition]; }
  std::vector<std::string> owner_ids() const;

 private:
  Ring() = default;
  std::vector<std::string> members_;  // founders sorted, then joiners in joining order
  std::vector<MemberIndex> owner_;    // per partition
  std::vector<MemberIndex> walk_;     // per partition, the serving members in walk order (row-major)
  size_t serving_ = 0;                // members that own partitions: the length of each walk
  std::vector<bool> departed_;        // per member; empty: none departed
  uint32_t log2_q_ = 0;
};

}  // namespace md::core
