#include "core/dvv_set.h"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace md::core {
namespace {

// Orders siblings against a dot (a sibling_order list is sorted by dot too).
struct DotLess {
  bool operator()(const Sibling& s, const Dot& d) const { return s.dot < d; }
  bool operator()(const Dot& d, const Sibling& s) const { return d < s.dot; }
};

}  // namespace

bool sibling_order(const Sibling& a, const Sibling& b) {
  return std::tie(a.dot, a.tombstone, a.value, a.context.entries()) <
         std::tie(b.dot, b.tombstone, b.value, b.context.entries());
}

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
  auto at = std::lower_bound(siblings_.begin(), siblings_.end(), dot, DotLess{});
  siblings_.insert(at, std::move(sibling));
  return dot;
}

void DvvSet::merge(const DvvSet& other) {
  // A sibling survives if the other side holds it too or has never seen its dot; a sibling one side
  // lacks although its context covers the dot was overwritten there and is dropped, unless that
  // side holds another write under the same dot: then the dot was made twice, and both stay.
  auto holds_dot = [](const std::vector<Sibling>& siblings, const Dot& dot) {
    return std::binary_search(siblings.begin(), siblings.end(), dot, DotLess{});
  };
  std::vector<Sibling> merged;
  merged.reserve(siblings_.size() + other.siblings_.size());
  auto a = siblings_.begin();
  auto b = other.siblings_.begin();
  while (a != siblings_.end() || b != other.siblings_.end()) {
    if (b == other.siblings_.end() || (a != siblings_.end() && sibling_order(*a, *b))) {
      // Copied, not moved: holds_dot may still look at this sibling's dot.
      if (!other.context_.covers(a->dot) || holds_dot(other.siblings_, a->dot)) merged.push_back(*a);
      ++a;
    } else if (a == siblings_.end() || sibling_order(*b, *a)) {
      if (!context_.covers(b->dot) || holds_dot(siblings_, b->dot)) merged.push_back(*b);
      ++b;
    } else {  // the same write
      merged.push_back(*a);
      ++a;
      ++b;
    }
  }
  siblings_ = std::move(merged);
  context_.merge(other.context_);
}

size_t DvvSet::dot_collisions() const {
  size_t n = 0;
  for (size_t i = 0; i < siblings_.size(); ++i) {
    const bool shared = (i > 0 && siblings_[i - 1].dot == siblings_[i].dot) ||
                        (i + 1 < siblings_.size() && siblings_[i + 1].dot == siblings_[i].dot);
    n += shared ? 1 : 0;
  }
  return n;
}

bool DvvSet::deleted() const {
  return std::all_of(siblings_.begin(), siblings_.end(), [](const Sibling& s) { return s.tombstone; });
}

DvvSet DvvSet::from_parts(VersionVector context, std::vector<Sibling> siblings) {
  DvvSet set;
  set.context_ = std::move(context);
  set.siblings_ = std::move(siblings);
  assert(std::is_sorted(set.siblings_.begin(), set.siblings_.end(), sibling_order));
  return set;
}

}  // namespace md::core
