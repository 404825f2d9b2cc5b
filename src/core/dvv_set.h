// The stored object of a key: a dotted version vector set (Preguiça et al.; Riak 2.0's dvvset).
//
// It holds a causal context (a VersionVector: every write this replica has seen, directly or as
// overwritten) and the siblings: the values not yet overwritten, each named by the unique dot its
// coordinator made. The laws it keeps:
//  - update(ctx, ...) removes exactly the siblings whose dots ctx covers and adds one new sibling
//    whose dot is the next counter of the coordinating node: a write that saw everything leaves
//    one value, a write without context becomes a sibling of what is stored;
//  - merge is commutative, associative and idempotent, and keeps every sibling that the other side
//    has not seen and overwritten: concurrent writes are never lost;
//  - a delete is an update whose new sibling is a tombstone.
//  - a dot is never made twice: update() numbers above `floor` too, which the node raises past
//    every counter of the tombstones it reaped (core/tombstone_reaper.h), so a key written again
//    after its tombstone was removed never reuses a dot that a surviving old copy covers.
//  - should a dot be made twice all the same (two nodes under one id: a protocol violation that
//    the membership refuses, docs/operations.md), merge keeps both writes as siblings under that
//    dot instead of taking them for one write, so neither is lost silently; dot_collisions()
//    counts them and a write with a context covering the dot resolves them like any siblings.
// Replicas always exchange whole objects, so a context is always downward closed per node and a
// VersionVector represents it exactly.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/version_vector.h"

namespace md::core {

struct Sibling {
  Dot dot;
  // The write's causal past: the context it was made with, without its own dot. (A version vector
  // alone cannot say "(A,16) but not (A,15)"; a dot beside a vector can.)
  VersionVector context;
  bool tombstone = false;
  std::string value;  // opaque to the core (the HTTP layer stores compact JSON text); empty for a tombstone
  bool operator==(const Sibling&) const = default;

  // True when this write had seen `other`: its context covers the other's dot.
  bool saw(const Dot& other) const { return context.covers(other); }
  // The seed's per-sibling "vector_clock": the causal past with the write's own dot added.
  VersionVector clock() const {
    VersionVector c = context;
    c.raise(dot.node, dot.counter);
    return c;
  }
};

// The order siblings are kept in: by dot, then (only for siblings that share a dot by a protocol
// violation) by contents, so that every replica holds them in the same order.
bool sibling_order(const Sibling& a, const Sibling& b);

class DvvSet {
 public:
  DvvSet() = default;

  // The coordinator's write: drops the siblings covered by `ctx`, makes the next dot of `node`
  // (above both this object's counter of `node` and `floor`) and adds the new sibling. Returns
  // the new dot.
  Dot update(const VersionVector& ctx, const std::string& node, bool tombstone, std::string value,
             uint64_t floor = 0);

  // Replica sync: afterwards this object holds the join of both histories.
  void merge(const DvvSet& other);

  const VersionVector& context() const { return context_; }
  const std::vector<Sibling>& siblings() const { return siblings_; }  // in sibling_order
  // Siblings that share their dot with another sibling of different contents (0 unless two
  // coordinators made the same dot).
  size_t dot_collisions() const;
  bool empty() const { return siblings_.empty() && context_.empty(); }
  // True when no sibling is a live value: a read answers not found.
  bool deleted() const;
  bool operator==(const DvvSet&) const = default;

  // Rebuilds an object from decoded parts; the codec validates them first.
  static DvvSet from_parts(VersionVector context, std::vector<Sibling> siblings);

 private:
  VersionVector context_;
  std::vector<Sibling> siblings_;
};

}  // namespace md::core
