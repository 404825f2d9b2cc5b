#include "core/dvv_set.h"

#include <algorithm>
#include <cassert>

namespace md::core {

Dot DvvSet::update(const VersionVector& ctx, const std::string& node, bool tombstone, std::string value,
                   uint64_t floor) {
  std::erase_if(siblings_, [&](const Sibling& s) { return ctx.covers(s.dot); });
  context_.merge(ctx);
  // The counter is taken from this object's own context, and the caller stores the result in the
  // same atomic step, so two writes through one coordinator can never make the same dot. Skipping
  // counters up to `floor` is harmless: the context then covers dots this key never had.
  Dot dot{node, std::max(context_.get(node), floor) + 1};
  context_.raise(node, dot.counter);
  Sibling sibling{dot, ctx, tombstone, tombstone ? std::string() : std::move(value)};
  auto at = std::lower_bound(siblings_.begin(), siblings_.end(), dot,
                             [](const Sibling& s, const Dot& d) { return s.dot < d; });
  siblings_.insert(at, std::move(sibling));
  return dot;
}

void DvvSet::merge(const DvvSet& other) {
  // A sibling survives if the other side holds it too or has never seen its dot; a sibling one side
  // lacks although its context covers the dot was overwritten there and is dropped.
  std::vector<Sibling> merged;
  merged.reserve(siblings_.size() + other.siblings_.size());
  auto a = siblings_.begin();
  auto b = other.siblings_.begin();
  while (a != siblings_.end() || b != other.siblings_.end()) {
    if (b == other.siblings_.end() || (a != siblings_.end() && a->dot < b->dot)) {
      if (!other.context_.covers(a->dot)) merged.push_back(std::move(*a));
      ++a;
    } else if (a == siblings_.end() || b->dot < a->dot) {
      if (!context_.covers(b->dot)) merged.push_back(*b);
      ++b;
    } else {  // the same dot is the same write
      merged.push_back(std::move(*a));
      ++a;
      ++b;
    }
  }
  siblings_ = std::move(merged);
  context_.merge(other.context_);
}

bool DvvSet::deleted() const {
  return std::all_of(siblings_.begin(), siblings_.end(), [](const Sibling& s) { return s.tombstone; });
}

DvvSet DvvSet::from_parts(VersionVector context, std::vector<Sibling> siblings) {
  DvvSet set;
  set.context_ = std::move(context);
  set.siblings_ = std::move(siblings);
  assert(std::is_sorted(set.siblings_.begin(), set.siblings_.end(),
                        [](const Sibling& x, const Sibling& y) { return x.dot < y.dot; }));
  return set;
}

}  // namespace md::core
