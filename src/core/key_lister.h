// Key listing (Op::list): pages through the keys of the whole cluster in key order.
//
// Keys are placed by hash, so no node holds a key range: the coordinator (the node asked) sends
// every member that is up, itself included, the page's start (prefix, cursor) and size (limit).
// Each member reads, from the partitions it is among the first N replicas of, its first `limit`
// keys after the start in key order (ScanKeys: memory bounded by the limit), with each key's
// object stripped of its values, and says whether it had more. The coordinator merges the copies
// of each key; a key present on any replica is listed unless every version of it that any
// replica holds is a tombstone. It can only vouch for keys up to the smallest last key of the
// members that had more: past it, a member's next keys are unknown. So a round yields the live
// keys up to that bound; while the page is not full and members had more, another round starts
// after the bound (a range of tombstones costs rounds, not an empty page), until the page is full,
// the keys run out, or the deadline passes (then the page is short and its cursor says where to go
// on). The cursor is the last key the page considered; the next page starts strictly after it.
// Every partition must have at least one of its N replicas answer each round, or the listing is
// unavailable (a 503) rather than silently short.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dvv_set.h"
#include "core/messages.h"
#include "core/node_view.h"
#include "core/outbox.h"

namespace md::core {

// A client's list request, validated by the node: limit in 1..kListLimitMax, n resolved.
struct ListRequest {
  std::string prefix;
  std::optional<std::string> after;
  uint32_t limit = 0;
  uint32_t n = 0;
};

struct ListCounters {
  uint64_t listings = 0;        // pages coordinated here
  uint64_t listings_failed = 0;  // answered unavailable: a partition without an answering replica
};

class KeyLister {
 public:
  explicit KeyLister(uint64_t timeout_ms) : timeout_ms_(timeout_ms) {}
  KeyLister(const KeyLister&) = delete;
  KeyLister& operator=(const KeyLister&) = delete;

  void start(Outbox& out, const NodeView& view, uint64_t now_ms, const Origin& origin, ListRequest request);
  // Requests from a peer's coordinator and replies to this node's, by the time `now_ms` they arrive.
  // A peer's coordinator asks for this node's page.
  void on_list(Outbox& out, const NodeView& view, MemberIndex from, ListKeys request);
  void on_reply(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex from, ListKeysReply reply);
  // A ScanKeys this part issued is done; false if `done` answers another part's scan.
  bool on_scan_done(Outbox& out, const NodeView& view, uint64_t now_ms, ScanDone& done);
  // What `peer` owed will not come: the listing goes on without it.
  void on_peer_down(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex peer);
  // Members that have not answered by the deadline are given up on.
  void on_tick(Outbox& out, const NodeView& view, uint64_t now_ms);

  size_t pending() const { return listings_.size(); }
  const ListCounters& counters() const { return counters_; }

 private:
  struct Listing {
    Origin origin;
    ListRequest request;             // its `after` moves on with each round
    std::vector<std::string> found;  // the page's live keys so far
    uint64_t deadline_ms = 0;
    // The round in progress.
    RequestId round = 0;                 // the id its messages carry
    std::vector<MemberIndex> waiting;    // asked, not answered yet
    std::vector<MemberIndex> answered;
    std::map<std::string, DvvSet> keys;  // every copy seen, merged per key
    std::optional<std::string> bound;    // the smallest last key of the members that had more
  };
  // Where a ScanKeys's result goes: a listing coordinated here, or a peer's.
  struct ScanFor {
    RequestId round = 0;  // a round of a listing coordinated here, when `peer` is unset
    std::optional<MemberIndex> peer;
    RequestId peer_id = 0;
  };

  // Asks every reachable member, this node included, for the keys after `listing.request.after`.
  void start_round(Outbox& out, const NodeView& view, Listing& listing);
  void scan(Outbox& out, const NodeView& view, const ListRequest& request, ScanFor target);
  void add(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round, MemberIndex from,
           const ListKeysReply& reply);
  void give_up_on(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round, MemberIndex member);
  // Once nobody the round waits for is left: answers, or starts the next round.
  void round_done_if_complete(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round);

  uint64_t timeout_ms_;
  std::map<RequestId, Listing> listings_;  // by the id of their current round
  std::map<RequestId, ScanFor> scans_;  // by storage op
  ListCounters counters_;
};

}  // namespace md::core
