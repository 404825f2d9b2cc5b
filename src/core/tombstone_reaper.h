// Tombstone reaping: a deleted key leaves the store once no copy of what it deleted can come back.
//
// A delete stores a tombstone: an object whose siblings are all tombstones and whose context
// covers every write the delete saw. Removing it forgets that context, so an older copy of the
// key arriving afterwards would be taken for new data and the deleted value would return. A
// node removes a tombstone only when no such copy can exist anywhere:
//  - every member of the ring holds exactly this tombstone (the same bytes) or holds no data of
//    the key's partition at all, and holds no hint for the key; a member that is down or silent
//    blocks the removal, and so does one serving another ring version (a newcomer being filled);
//  - every member has held its tombstone for the grace period. A node sends only what it stores
//    (or, for a deadline and a read-repair window, what it just stored or read), so a message
//    carrying an older version was sent before that: the grace must exceed the longest a message
//    can travel, plus the request deadline and the read-repair window.
// A partition's first replica is its reaper. Every interval it takes up to batch_max of its ripe
// tombstones of one partition, asks every member which may go (ReapCheck), and tells every member
// to remove those that all found ready (Reap); each removes a key only if it still holds exactly
// that tombstone, so a write that landed meanwhile stays.
//
// A removal must not let a dot be made twice. A surviving copy (a member whose removal failed, a
// write that landed during the round) still covers the removed tombstone's dots, so before
// removing, a node raises its dot floor past every counter of those tombstones and keeps it
// durably; its new dots are numbered above it (DvvSet::update).
//
// This class keeps the tombstones this node holds and the round it leads; the node sends the
// messages and runs the removals (node_reaping.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/ring.h"

namespace md::core {

struct TombstoneReaperOptions {
  uint64_t grace_ms = 3'600'000;  // every member held the tombstone this long; 0 keeps tombstones forever
  uint64_t interval_ms = 1000;    // a round starts at most this often
  uint32_t batch_max = 256;       // tombstones per round
  uint32_t scan_max = 4096;       // tombstones looked at per round: a partition's next round goes on from there
};

class TombstoneReaper {
 public:
  // The reaper of a partition is its first replica under the ring start_round is given.
  TombstoneReaper(MemberIndex self, TombstoneReaperOptions options);
  TombstoneReaper(const TombstoneReaper&) = delete;
  TombstoneReaper& operator=(const TombstoneReaper&) = delete;

  // A key of a ring partition now holds `object` at this node (nullopt: nothing), whose
  // object_hash is `hash`: a tombstone is tracked from the moment the key became deleted here.
  void stored(uint32_t partition, std::string_view key, std::optional<std::string_view> object, uint64_t hash,
              uint64_t now_ms);
  // This node holds exactly the tombstone `hash` for the key, and has held a tombstone since at
  // least the grace period without the key being live in between.
  bool ripe(uint32_t partition, std::string_view key, uint64_t hash, uint64_t now_ms) const;
  // The largest counter of the tombstone's context, if this node holds exactly `hash` for the key.
  std::optional<uint64_t> counter(uint32_t partition, std::string_view key, uint64_t hash) const;

  // Starts a round when one is due and none is under way: up to batch_max ripe tombstones for
  // which `blocked` is false, of the next partition (round robin) that this node is the reaper
  // of, looking at no more than scan_max tombstones (in key order, from where the partition's
  // last look stopped). `members` are the ones that must answer (every other member). Returns
  // the check to send.
  std::optional<ReapCheck> start_round(const Ring& ring, uint64_t now_ms, RequestId id, uint64_t ring_version,
                                       const std::vector<MemberIndex>& members, uint64_t deadline_ms,
                                       const std::function<bool(std::string_view key)>& blocked);
  // A member's answer; returns settle().
  std::optional<Reap> on_reply(MemberIndex from, const ReapCheckReply& reply);
  // Once every member answered (at once when there are none), ends the round and returns the
  // tombstones that all found ready (possibly none).
  std::optional<Reap> settle();
  // Gives up the round if `peer` has not answered it, or if its deadline passed.
  void on_peer_down(MemberIndex peer);
  void on_tick(uint64_t now_ms);
  // The node serves a new ring: a round asked under the old one is given up.
  void on_ring_changed() { round_.reset(); }

  bool enabled() const { return options_.grace_ms != 0; }
  size_t tombstones() const;  // held here
  bool round_under_way() const { return round_.has_value(); }

 private:
  struct Tombstone {
    uint64_t hash = 0;
    uint64_t counter = 0;   // the largest of its context
    uint64_t since_ms = 0;  // the key is deleted here since then
  };
  struct Round {
    RequestId id = 0;
    Reap reap;                       // the tombstones asked about
    std::vector<uint32_t> votes;     // per tombstone: members that found it ready
    std::set<MemberIndex> waiting;   // members yet to answer
    size_t members = 0;
    uint64_t deadline_ms = 0;
  };
  using Keys = std::map<std::string, Tombstone, std::less<>>;

  const Tombstone* find(uint32_t partition, std::string_view key) const;
  bool leads(const Ring& ring, uint32_t partition) const;

  MemberIndex self_;
  TombstoneReaperOptions options_;
  std::map<uint32_t, Keys> tombstones_;  // by partition
  uint32_t cursor_ = 0;                  // the partition the next round looks at first
  std::map<uint32_t, std::string> resume_after_;  // per partition: the last key a look stopped at
  uint64_t next_round_ms_ = 0;
  std::optional<Round> round_;
};

}  // namespace md::core
