#include "core/ring.h"

#include <algorithm>
#include <bit>
#include <cassert>

#include "core/claim.h"
#include "core/key_hash.h"

namespace md::core {

Result<Ring> Ring::create(std::vector<std::string> members, uint32_t partitions) {
  if (partitions < 2 || partitions > kPartitionsMax || !std::has_single_bit(partitions)) {
    return Status::invalid_argument("partitions must be a power of two between 2 and 32768, got " +
                                    std::to_string(partitions));
  }
  if (members.empty()) return Status::invalid_argument("a ring needs at least one member");
  std::sort(members.begin(), members.end());
  auto owners = claim({}, members, partitions);
  return from_owners(std::move(members), owners);
}

Result<Ring> Ring::from_owners(std::vector<std::string> members, const std::vector<std::string>& owners) {
  std::vector<MemberIndex> indexes;
  indexes.reserve(owners.size());
  for (const auto& id : owners) {
    auto it = std::find(members.begin(), members.end(), id);
    if (it == members.end()) return Status::invalid_argument("owner " + id + " is not a member");
    indexes.push_back(static_cast<MemberIndex>(it - members.begin()));
  }
  return from_indexes(std::move(members), std::move(indexes));
}

namespace {

// Reorders each walk into rounds by zone: the first member of each zone met, then the second of
// each, and so on, keeping walk order within a round. A counting sort per walk: Q x members.
// Walks are k members long; zones[m] is member m's zone.
void spread_over_zones(std::vector<MemberIndex>& walks, size_t k, const std::vector<std::string>& zones) {
  std::vector<uint32_t> zone_of(zones.size());  // zones numbered
  std::vector<const std::string*> names;
  for (size_t m = 0; m < zones.size(); ++m) {
    auto it = std::find_if(names.begin(), names.end(), [&](const std::string* z) { return *z == zones[m]; });
    zone_of[m] = static_cast<uint32_t>(it - names.begin());
    if (it == names.end()) names.push_back(&zones[m]);
  }
  if (names.size() < 2) return;
  std::vector<uint32_t> met(names.size()), round(k), starts(k + 1);
  std::vector<MemberIndex> sorted(k);
  for (size_t begin = 0; begin < walks.size(); begin += k) {
    std::fill(met.begin(), met.end(), 0);
    std::fill(starts.begin(), starts.end(), 0);
    for (size_t i = 0; i < k; ++i) {
      round[i] = met[zone_of[walks[begin + i]]]++;
      ++starts[round[i] + 1];
    }
    for (size_t r = 1; r <= k; ++r) starts[r] += starts[r - 1];
    for (size_t i = 0; i < k; ++i) sorted[starts[round[i]]++] = walks[begin + i];
    std::copy(sorted.begin(), sorted.end(), walks.begin() + static_cast<std::ptrdiff_t>(begin));
  }
}

}  // namespace

Result<Ring> Ring::from_indexes(std::vector<std::string> members, std::vector<MemberIndex> owners,
                                const std::vector<std::string>& zones, std::vector<bool> departed) {
  if (members.empty()) return Status::invalid_argument("a ring needs at least one member");
  if (members.size() > kMembersMax) {
    return Status::invalid_argument("a ring has at most " + std::to_string(kMembersMax) + " members");
  }
  auto sorted = members;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Status::invalid_argument("ring members must be distinct");
  }
  auto q = static_cast<uint32_t>(owners.size());
  if (q < 2 || q > kPartitionsMax || !std::has_single_bit(q)) {
    return Status::invalid_argument("partition count must be a power of two between 2 and 32768");
  }
  for (MemberIndex m : owners) {
    if (m >= members.size()) return Status::invalid_argument("an owner is not a member");
  }
  if (!zones.empty() && zones.size() != members.size()) {
    return Status::invalid_argument("a ring's zones must name one zone per member");
  }
  if (!departed.empty() && departed.size() != members.size()) {
    return Status::invalid_argument("a ring's departed flags must name one flag per member");
  }
  for (MemberIndex m : owners) {
    if (!departed.empty() && departed[m]) return Status::invalid_argument("a departed member owns a partition");
  }
  Ring ring;
  ring.members_ = std::move(members);
  ring.departed_ = std::move(departed);
  ring.log2_q_ = static_cast<uint32_t>(std::countr_zero(q));
  ring.owner_ = std::move(owners);
  // Partition p's walk is its owner, then partition p+1's walk without that owner (members that
  // own nothing are in no walk). So one scan makes partition 0's walk, and each walk before it
  // follows from the one after: Q x members steps, not Q^2.
  std::vector<bool> seen(ring.members_.size());
  std::vector<MemberIndex> walk;
  for (MemberIndex m : ring.owner_) {
    if (!seen[m]) walk.push_back(m);
    seen[m] = true;
  }
  const size_t k = walk.size();
  ring.serving_ = k;
  ring.walk_.resize(static_cast<size_t>(q) * k);
  std::copy(walk.begin(), walk.end(), ring.walk_.begin());
  for (uint32_t p = q - 1; p > 0; --p) {
    const MemberIndex owner = ring.owner_[p];
    auto at = std::find(walk.begin(), walk.end(), owner);
    std::rotate(walk.begin(), at, at + 1);  // the owner to the front, the rest in order
    std::copy(walk.begin(), walk.end(), ring.walk_.begin() + static_cast<std::ptrdiff_t>(p * k));
  }
  if (!zones.empty()) spread_over_zones(ring.walk_, k, zones);
  return ring;
}

uint32_t Ring::partition_of_key(std::string_view key) const { return partition_of(key_hash(key)); }

std::span<const MemberIndex> Ring::preference_list(uint32_t partition, size_t n) const {
  assert(partition < partitions() && n >= 1 && n <= serving_);
  return {walk_.data() + static_cast<size_t>(partition) * serving_, n};
}

std::vector<std::string> Ring::owner_ids() const {
  std::vector<std::string> ids;
  ids.reserve(owner_.size());
  for (MemberIndex m : owner_) ids.push_back(members_[m]);
  return ids;
}

}  // namespace md::core
