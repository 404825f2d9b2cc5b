// Version vectors and dots: the vocabulary of causality.
//
// A Dot (node id, counter) names one write event made by a coordinating node. A VersionVector maps
// node ids to counters and stands for the downward-closed set of dots it covers: {(n, c) | c <= vv[n]}.
// Entries are kept sorted by node id with counters > 0, so equal histories compare equal.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace md::core {

struct Dot {
  std::string node;
  uint64_t counter = 0;
  auto operator<=>(const Dot&) const = default;
};

class VersionVector {
 public:
  using Entry = std::pair<std::string, uint64_t>;

  VersionVector() = default;
  uint64_t get(std::string_view node) const;
  // Raises node's counter to at least `counter`.
  void raise(std::string_view node, uint64_t counter);
  void merge(const VersionVector& other);
  bool covers(const Dot& dot) const { return get(dot.node) >= dot.counter; }
  // True when every dot of `other` is covered by this vector.
  bool descends(const VersionVector& other) const;

  const std::vector<Entry>& entries() const { return entries_; }
  bool empty() const { return entries_.empty(); }
  bool operator==(const VersionVector&) const = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace md::core
