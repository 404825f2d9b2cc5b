// Tombstone reaping: the node's side of core/tombstone_reaper.h. The reaper of a partition asks
// every member, each answers from its own tombstones and hints, and every member removes what all
// of them found ready, after raising its dot floor.
#include <algorithm>
#include <set>

#include "core/node.h"

namespace md::core {

void Node::reap_tick(uint64_t now_ms) {
  reaper_.on_tick(now_ms);
  if (!reaper_.enabled() || reaper_.round_under_way()) return;
  const Ring& ring = membership_.ring();
  std::vector<MemberIndex> members;
  for (MemberIndex m = 0; m < ring.members().size(); ++m) {
    if (m == self() || ring.departed(m)) continue;
    if (!peers_.up(m)) return;  // a member that cannot answer blocks every removal
    members.push_back(m);
  }
  auto check = reaper_.start_round(ring, now_ms, out_.next_id(), ring_version_, members,
                                   now_ms + options_.request_timeout_ms,
                                   [&](std::string_view key) { return handoff_.holds(key); });
  if (!check) return;
  ++counters_.reap_rounds;
  for (MemberIndex m : members) out_.send(m, *check);
  if (auto reap = reaper_.settle()) reap_everywhere(*reap);  // a cluster of one asks no one
}

void Node::on_reap_check(uint64_t now_ms, MemberIndex from, const ReapCheck& check) {
  ReapCheckReply reply{check.id, {}};
  if (reaper_.enabled() && check.ring_version == ring_version_ && check.partition < membership_.ring().partitions() &&
      check.keys.size() == check.hashes.size()) {
    // A node that never stored data of the partition has no copy that could come back.
    const bool holds_data = anti_entropy_.holds_data(check.partition);
    for (uint32_t i = 0; i < check.keys.size(); ++i) {
      bool ready = !holds_data || reaper_.ripe(check.partition, check.keys[i], check.hashes[i], now_ms);
      if (ready && !handoff_.holds(check.keys[i])) reply.ready.push_back(i);
    }
  }
  out_.send(from, std::move(reply));
}

void Node::on_reap_reply(MemberIndex from, const ReapCheckReply& reply) {
  if (auto reap = reaper_.on_reply(from, reply)) reap_everywhere(*reap);
}

void Node::reap_everywhere(const Reap& reap) {
  if (reap.keys.empty()) return;
  for (MemberIndex m = 0; m < membership_.ring().members().size(); ++m) {
    if (m != self() && !membership_.ring().departed(m)) out_.send(m, reap);
  }
  remove_tombstones(reap);
}

void Node::remove_tombstones(const Reap& reap) {
  if (!reaper_.enabled() || reap.partition >= membership_.ring().partitions() ||
      reap.keys.size() != reap.hashes.size()) {
    return;
  }
  // A key with a storage update in flight waits for a later round: the removal must run after
  // every write made with the floor it raises.
  auto in_flight = out_.updating(reap.partition);
  std::set<std::string_view> updating(in_flight.begin(), in_flight.end());
  std::vector<size_t> removable;
  uint64_t floor = dot_floor_;
  for (size_t i = 0; i < reap.keys.size(); ++i) {
    auto counter = reaper_.counter(reap.partition, reap.keys[i], reap.hashes[i]);
    if (!counter || updating.contains(reap.keys[i])) continue;
    floor = std::max(floor, *counter);
    removable.push_back(i);
  }
  if (floor > dot_floor_) {
    dot_floor_ = floor;
    out_.push(SaveDotFloor{floor});  // durable before any removal below
  }
  for (size_t i : removable) out_.storage(Part::reaper, reap.partition, reap.keys[i], RemoveKey{reap.hashes[i]});
}

}  // namespace md::core
