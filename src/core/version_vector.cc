#include "core/version_vector.h"

#include <algorithm>

namespace md::core {
namespace {

auto find(const std::vector<VersionVector::Entry>& entries, std::string_view node) {
  return std::lower_bound(entries.begin(), entries.end(), node,
                          [](const VersionVector::Entry& e, std::string_view n) { return e.first < n; });
}

}  // namespace

uint64_t VersionVector::get(std::string_view node) const {
  auto it = find(entries_, node);
  return it != entries_.end() && it->first == node ? it->second : 0;
}

void VersionVector::raise(std::string_view node, uint64_t counter) {
  if (counter == 0) return;
  auto it = find(entries_, node);
  if (it != entries_.end() && it->first == node) {
    auto& entry = entries_[static_cast<size_t>(it - entries_.begin())];
    entry.second = std::max(entry.second, counter);
  } else {
    entries_.insert(it, Entry(std::string(node), counter));
  }
}

void VersionVector::merge(const VersionVector& other) {
  for (const auto& [node, counter] : other.entries_) raise(node, counter);
}

bool VersionVector::descends(const VersionVector& other) const {
  return std::all_of(other.entries_.begin(), other.entries_.end(),
                     [&](const Entry& e) { return get(e.first) >= e.second; });
}

}  // namespace md::core
