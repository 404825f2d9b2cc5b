// Active anti-entropy: replicas of a partition compare hash trees and exchange only the keys on
// which they differ, so they converge without any client read (Dynamo's Merkle-tree sync).
//
// Each node keeps a MerkleTree per partition, updated as writes land (Node feeds every stored
// update's before/after object hashes) and rebuilt from the engine on start (load). Every
// interval it starts one exchange, walking round robin over (partition, peer) for the
// partitions it replicates or holds data of, and the partition's replicas that are up:
//   initiator --AaeTree(inner hashes)--> peer --AaeSegments(its segments under differing inner
//   nodes)--> initiator: scans the differing segments --AaeKeys(keys, object hashes)--> peer:
//   scans the same segments, sends the initiator (ReplicaWrite, no ack) every object the
//   initiator lacks or has differently, and pulls (AaePull) the initiator's objects it lacks or
//   has differently.
// Both sides merge what they receive with the normal replica write (a DVV sync), so afterwards
// they hold the same objects. Nothing is ever deleted by anti-entropy, and a lost message only
// delays convergence to a later exchange. Pure: what it decides goes to the Outbox each call
// is given, and it keeps of the ring only what it derived from it (on_ring_changed).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/merkle_tree.h"
#include "core/messages.h"
#include "core/outbox.h"
#include "core/ring.h"

namespace md::core {

struct AntiEntropyOptions {
  uint64_t interval_ms = 100;           // one exchange started per interval; 0 turns anti-entropy off
  uint64_t exchange_timeout_ms = 2000;  // an exchange unanswered this long is given up (a message lost
                                        // as a connection went down and up again)
};

struct AntiEntropyCounters {
  uint64_t exchanges = 0;          // exchanges this node started
  uint64_t exchanges_in_sync = 0;  // ... that found the trees equal
  uint64_t segments_differing = 0; // segments found different, as initiator
  uint64_t objects_sent = 0;       // objects sent to a peer that lacked them or had them differently
};

class AntiEntropy {
 public:
  // Exchanges cover the partitions whose first `n` replicas include `self`, under `ring` (and
  // see on_ring_changed).
  AntiEntropy(const Ring& ring, MemberIndex self, uint32_t n, AntiEntropyOptions options);
  AntiEntropy(const AntiEntropy&) = delete;
  AntiEntropy& operator=(const AntiEntropy&) = delete;

  // The node serves by a new `ring` (members were added). Exchanges cover the partitions this
  // node replicates and also those it holds data of without replicating them (it dropped out of
  // their preference lists), each with its replicas under the ring: a partition's new replica
  // gets its data from the old ones, the one it replaced included, even after that one restarted.
  void on_ring_changed(const Ring& ring);

  // A key present in the engine at start (rebuilds the tree). Both ignore partitions beyond the
  // ring's (the hint store).
  void load(uint32_t partition, std::string_view key, std::string_view object);
  // A stored update: `key` went from `before` to `after` (object hashes; 0: absent).
  void changed(uint32_t partition, std::string_view key, uint64_t before, uint64_t after);

  // `ring` is the node's current one (the one of the last on_ring_changed).
  void on_tick(Outbox& out, const Ring& ring, uint64_t now_ms, const std::vector<bool>& peer_up);
  void on_tree(Outbox& out, MemberIndex from, const AaeTree& m);
  void on_segments(Outbox& out, MemberIndex from, const AaeSegments& m);
  void on_keys(Outbox& out, MemberIndex from, AaeKeys m);
  void on_pull(Outbox& out, MemberIndex from, AaePull m);
  void on_scan_done(Outbox& out, const ScanDone& done);
  // The connection to `peer` is lost: an exchange with it is given up.
  void on_peer_down(MemberIndex peer);
  // An admin's repair (`minidynamo admin repair`): an exchange of `partition` (nullopt: of every
  // partition this node exchanges) with each of its replicas, started one after another from the
  // next tick, ahead of the round robin and whatever the interval. Returns how many it queued (0:
  // this node neither replicates nor holds data of that partition).
  size_t repair(std::optional<uint32_t> partition);

  const AntiEntropyCounters& counters() const { return counters_; }
  // The peers of the exchanges under way (waiting for a peer's answer or for a scan), for the
  // simulator to crash a node in the middle of one.
  std::vector<MemberIndex> exchange_peers() const;
  const MerkleTree* tree(uint32_t partition) const;
  // This node stored data of the partition (in this life, or found at start).
  bool holds_data(uint32_t partition) const { return held_.contains(partition); }

 private:
  struct Exchange {
    RequestId id = 0;
    uint32_t partition = 0;
    MemberIndex peer = 0;
    uint64_t deadline_ms = 0;
  };
  // What a finished scan is for.
  struct SendKeys {  // initiator: tell the peer our keys in the differing segments
    RequestId id;
    MemberIndex peer;
    uint32_t partition;
    std::vector<uint32_t> segments;
  };
  struct Compare {  // peer: compare the initiator's keys with ours
    MemberIndex initiator;
    AaeKeys theirs;
  };
  struct Serve {  // initiator: send the pulled keys
    MemberIndex peer;
    std::set<std::string> keys;
  };
  using Purpose = std::variant<SendKeys, Compare, Serve>;

  void plan(const Ring& ring);
  void start(Outbox& out, uint64_t now_ms, uint32_t partition, MemberIndex peer);
  void mark_held(uint32_t partition);
  void scan(Outbox& out, uint32_t partition, std::vector<uint32_t> segments, Purpose purpose);
  void send_object(Outbox& out, MemberIndex to, const std::string& key, const std::string& object);

  bool known(uint32_t partition) const { return partition < replicated_.size(); }  // peers' messages are checked

  MemberIndex self_;
  std::vector<bool> replicated_;  // per partition of the ring: this node is one of its first n replicas
  uint32_t n_;
  std::set<uint32_t> held_;  // partitions this node stored data in
  bool replan_ = false;      // it holds data of a partition it does not replicate and does not exchange yet
  std::vector<std::pair<uint32_t, MemberIndex>> schedule_;  // (partition, peer) pairs, walked round robin
  size_t cursor_ = 0;
  std::deque<std::pair<uint32_t, MemberIndex>> urgent_;  // an admin's repair: before the schedule
  AntiEntropyOptions options_;
  std::unordered_map<uint32_t, MerkleTree> trees_;
  std::optional<Exchange> current_;
  uint64_t next_start_ms_ = 0;
  std::map<RequestId, Purpose> scans_;
  AntiEntropyCounters counters_;
};

}  // namespace md::core
