#include "core/claim.h"

#include <algorithm>
#include <cassert>
#include <map>

namespace md::core {
namespace {

// Each member's share: floor(Q/k), plus one for the Q mod k members that already own the most
// (ties by id). Giving the extra partitions to the largest current owners is what keeps a join
// from moving partitions between existing members.
std::map<std::string, uint32_t> shares(const std::map<std::string, uint32_t>& owned, uint32_t partitions) {
  std::vector<std::string> order;
  for (const auto& [id, n] : owned) order.push_back(id);
  std::stable_sort(order.begin(), order.end(),
                   [&](const std::string& a, const std::string& b) { return owned.at(a) > owned.at(b); });
  auto k = static_cast<uint32_t>(order.size());
  std::map<std::string, uint32_t> share;
  for (uint32_t i = 0; i < k; ++i) share[order[i]] = partitions / k + (i < partitions % k ? 1 : 0);
  return share;
}

}  // namespace

std::vector<std::string> claim(const std::vector<std::string>& previous, std::vector<std::string> members,
                               uint32_t partitions) {
  assert(!members.empty());
  std::sort(members.begin(), members.end());
  assert(std::adjacent_find(members.begin(), members.end()) == members.end());

  std::vector<std::string> owners(partitions);
  if (previous.size() != partitions) {
    for (uint32_t p = 0; p < partitions; ++p) owners[p] = members[p % members.size()];
    return owners;
  }

  std::map<std::string, uint32_t> owned;
  for (const auto& m : members) owned[m] = 0;
  std::vector<uint32_t> free;  // partitions whose owner left
  for (uint32_t p = 0; p < partitions; ++p) {
    if (owned.count(previous[p])) {
      owners[p] = previous[p];
      ++owned[previous[p]];
    } else {
      free.push_back(p);
    }
  }
  auto share = shares(owned, partitions);

  // Members above their share give up partitions spread evenly over the ones they own, each at
  // its own offset, so the freed partitions (which a joiner takes) lie apart around the ring and
  // the joiner's preference lists reach as many partitions as anyone's.
  std::map<std::string, std::vector<uint32_t>> held;
  for (uint32_t p = 0; p < partitions; ++p) {
    if (!owners[p].empty()) held[owners[p]].push_back(p);
  }
  std::vector<std::string> over;
  for (const auto& [id, ps] : held) {
    if (ps.size() > share[id]) over.push_back(id);
  }
  for (size_t r = 0; r < over.size(); ++r) {
    const auto& ps = held[over[r]];
    size_t excess = ps.size() - share[over[r]];
    for (size_t i = 0; i < excess; ++i) {
      double at = (static_cast<double>(i) + (static_cast<double>(r) + 0.5) / static_cast<double>(over.size())) *
                  static_cast<double>(ps.size()) / static_cast<double>(excess);
      uint32_t p = ps[std::min(ps.size() - 1, static_cast<size_t>(at))];
      owners[p].clear();
      free.push_back(p);
    }
    owned[over[r]] = share[over[r]];
  }
  std::sort(free.begin(), free.end());

  // Members below their share take free partitions; prefer one that owns neither neighbour, so
  // preference lists stay spread over distinct nodes, then the largest deficit, then the id.
  for (uint32_t p : free) {
    const std::string& prev = owners[(p + partitions - 1) % partitions];
    const std::string& next = owners[(p + 1) % partitions];
    const std::string* best = nullptr;
    auto rank = [&](const std::string& id) {
      bool adjacent = id == prev || id == next;
      return std::make_pair(!adjacent, share[id] - owned[id]);
    };
    for (const auto& m : members) {
      if (owned[m] >= share[m]) continue;
      if (best == nullptr || rank(m) > rank(*best)) best = &m;
    }
    assert(best != nullptr);
    owners[p] = *best;
    ++owned[*best];
  }
  return owners;
}

}  // namespace md::core
