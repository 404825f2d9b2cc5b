// What a part of a node (core/node.h) reads of the rest of it, passed into each call and never
// kept: the ring it serves by, which member it is, and how it sees the others.
#pragma once

#include "core/peers.h"
#include "core/ring.h"

namespace md::core {

struct NodeView {
  const Ring& ring;
  MemberIndex self;
  const Peers& peers;
};

}  // namespace md::core
