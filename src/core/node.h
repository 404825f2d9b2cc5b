// The protocol of one node as a pure state machine: events in, effects out.
//
// The runtime (and the simulator) feed it client requests, peer messages, storage completions,
// peer up/down notices and clock ticks, each with the current time, and then carry out the effects
// it returns (take_effects) in order: messages to send, replies to give, storage operations to
// run. It never blocks and does no I/O, so the same code runs in the real node and in the
// deterministic simulator.
//
// Node is the router between the parts that make Dynamo, each a type of its own that keeps its
// own state and puts what it decides into the Outbox the node passes to each call:
//  - Membership (core/membership.h): the cluster state and the ring, spread by gossip; joins.
//  - Peers (core/peers.h): up, suspect or down, by connection notices and phi-accrual heartbeats.
//  - WriteCoordinator (core/write_coordinator.h): this node makes a write's dot, stores it, sends
//    it to the other N-1 replicas (or stand-ins that keep hints: the sloppy quorum) and answers
//    after W acknowledgements, its own included.
//  - ReadCoordinator (core/read_coordinator.h): asks the N replicas, answers the merge of R
//    replies, repairs the replicas that answered with less.
//  - HintedHandoff (core/handoff.h): the hints this node keeps for replicas that were down, and
//    their delivery once the owner is reachable.
//  - AntiEntropy (core/anti_entropy.h): hash trees per partition, compared with peers', so that
//    replicas converge without reads.
//  - Transfers (core/transfers.h): while the ring's owners change, each partition's data streams
//    to the members that become its replicas, in acknowledged batches.
//  - TombstoneReaper (core/tombstone_reaper.h, node_reaping.cc): a deleted key is removed from
//    every member once all of them held its tombstone for the grace period and none holds a hint
//    for it; new dots are numbered above the counters of every tombstone removed here.
// The node itself validates requests, forwards a request for a key whose preference list (first N
// distinct nodes from the key's partition) does not include this node to a reachable node of that
// list, serves replica reads and writes for peers, and routes each completion and message to its
// part. A read whose coordinator goes down is forwarded to the next replica; a write is not (it
// may have been stored, and a second coordinator would store it again under another dot): it
// answers 503, indeterminate.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/actor_epoch.h"
#include "core/anti_entropy.h"
#include "core/cluster_state.h"
#include "core/handoff.h"
#include "core/key_lister.h"
#include "core/membership.h"
#include "core/messages.h"
#include "core/node_view.h"
#include "core/outbox.h"
#include "core/peers.h"
#include "core/quorum.h"
#include "core/read_coordinator.h"
#include "core/ring.h"
#include "core/tombstone_reaper.h"
#include "core/transfers.h"
#include "core/write_coordinator.h"

namespace md::core {

struct NodeOptions {
  Quorum defaults;                        // N/R/W for requests that leave them out
  uint64_t request_timeout_ms = 2000;     // unanswered by then: 503 (a write may still land later)
  uint64_t read_repair_window_ms = 1000;  // after a read's answer, late replies within this are repaired too
  uint32_t siblings_max = 100;            // a coordinator refuses a write that would leave more (Riak: 100)
  uint32_t pending_requests_max = 65536;  // requests in flight at this node; beyond it: 503 at once
  FailureDetectorOptions failure_detector;
  AntiEntropyOptions anti_entropy;
  TombstoneReaperOptions reaping;
  uint32_t hints_max = 1'000'000;         // pending hints held (one per owner and key); beyond it: refused
  uint32_t handoffs_in_flight_max = 16;   // hint deliveries at once: handoff is background work
  uint64_t handoff_retry_ms = 100;        // a failed delivery is retried after this, doubled per failure,
  uint64_t handoff_retry_max_ms = 2000;   // up to this
  uint64_t gossip_interval_ms = 1000;     // the cluster state goes to one random member this often
  std::string zone;                       // this node's zone (--zone), announced; empty: none
  TransferOptions transfers;
  // Mutation test only (the simulator's --buggy-colocated-hints): a hint kept on a node that
  // holds a replica counts toward W, as it did before W counted machines.
  bool buggy_colocated_hints = false;
};

// The node's counters and its parts' (each part's in its own header), as one record. Anti-entropy's
// are apart: AntiEntropy::counters().
struct NodeCounters : ReadCounters, HandoffCounters, MembershipCounters, ListCounters, TransferCounters {
  uint64_t client_requests = 0;
  uint64_t forwarded = 0;
  uint64_t quorum_failures = 0;
  uint64_t blind_writes = 0;        // puts without a context (each may add a sibling)
  uint64_t replica_writes = 0;      // writes (and repairs) from other coordinators, applied locally
  uint64_t replica_reads = 0;       // reads served to other coordinators
  uint64_t suspicions = 0;          // times a peer became suspect (its heartbeats stopped)
  uint64_t reap_rounds = 0;         // reaping rounds this node started, as a partition's reaper
  uint64_t tombstones_reaped = 0;   // tombstones removed from this node's store
  uint64_t dot_collisions = 0;      // replica merges that met a write under a dot held with other contents
};

class Node {
 public:
  // The node makes its writes' dots under actor_id(node_id, epoch), with the epoch the host got
  // from next_epoch() (actor_epoch.h). `request_id_base` must differ between incarnations of a
  // node (the runtime draws it from the OS, the simulator from its seed): replies that peers send
  // to an earlier incarnation must never match a request of this one.
  Node(Ring ring, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
       uint64_t request_id_base);
  // A node of a cluster in `state` (valid, with `self` one of its members), e.g. as kept by
  // SaveClusterState or learnt when joining.
  Node(ClusterState state, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
       uint64_t request_id_base);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // `client` is the runtime's handle for the reply (ReplyClient carries it back).
  void on_client_request(uint64_t now_ms, RequestId client, ClientRequest request);
  void on_peer_message(uint64_t now_ms, MemberIndex from, PeerMessage message);
  void on_storage_done(uint64_t now_ms, StorageDone done);
  // A coordinator's write (Part::writes) decided `object` and is being written and synced: the
  // write goes to the replicas meanwhile (write_coordinator.h). Hosts whose writes complete at once
  // do not call it.
  void on_storage_applied(RequestId op, std::string_view object);
  void on_scan_done(uint64_t now_ms, ScanDone done);
  // A key found in the engine at start: rebuilds the anti-entropy trees and finds the tombstones
  // (before serving).
  void load_object(uint64_t now_ms, uint32_t partition, std::string_view key, std::string_view object);
  // The connection to `peer` is up (a Hello is sent) or lost (what it owed us counts as failed).
  void on_peer_up(MemberIndex peer);
  void on_peer_down(uint64_t now_ms, MemberIndex peer);
  // Expires deadlines, sends heartbeats, updates suspicions and (re)starts hint deliveries; call
  // it every few milliseconds.
  void on_tick(uint64_t now_ms);
  // The storage keys of the hints the engine holds (its kHintPartition), read by the runtime at
  // start; they are delivered like hints stored in this life.
  void on_hints_recovered(const std::vector<std::string>& hint_keys);
  // The dot floor this node kept (SaveDotFloor) before it stopped; call it at start.
  void restore_dot_floor(uint64_t floor) { dot_floor_ = std::max(dot_floor_, floor); }

  // A node at `address` with `node_id`, in `zone` if it has one, asks to join (through this node):
  // it is announced in the state, which gossip carries to the claimant; the joiner starts serving
  // once its address is in the ring (cluster_state()). An id that another address holds is refused
  // (Code::conflict); while this node does not know every member's id yet, the join waits
  // (Code::unavailable).
  Status on_join_request(const std::string& address, const std::string& node_id, const std::string& zone = {});

  // An admin asks member `name` to leave, be removed or be replaced (Membership::request_departure).
  Status request_departure(const std::string& name, const Departure& departure);

  // An admin's repair: anti-entropy exchanges of `partition` (nullopt: every partition this node
  // exchanges) with its replicas, at once (AntiEntropy::repair). Returns how many were queued.
  size_t repair(std::optional<uint32_t> partition) { return anti_entropy_.repair(partition); }

  // An admin's change to a user (Membership::change_user): kept (SaveClusterState) and gossiped.
  Status change_user(const std::string& name, User user) { return membership_.change_user(out_, name, std::move(user)); }

  // The effects produced since the last call, in the order they must be carried out.
  std::vector<Effect> take_effects() { return out_.take(); }

  const Ring& ring() const { return membership_.ring(); }
  // This node has left the cluster (a leave finished, or it was removed or replaced): it owns
  // nothing, and the runtime stops it.
  bool departed() const { return membership_.departed(); }
  // The transfers this node sends now, with their progress.
  std::vector<Transfer> transfers_sending() const { return transfers_.sending(); }
  const ClusterState& cluster_state() const { return membership_.state(); }
  MemberIndex self() const { return membership_.self(); }
  const std::string& node_id() const { return membership_.node_id(); }
  // The id this node makes new dots under (actor_epoch.h).
  const std::string& actor() const { return actor_; }
  // The address of another node found claiming this node's id (in its hello, gossip or the state
  // this node started from); empty if none. While it is set this node coordinates no writes: two
  // coordinators under one id would make the same dots for different writes.
  const std::string& id_conflict() const { return membership_.id_conflict(); }
  PeerStatus peer_status(MemberIndex peer) const { return peers_.status(peer); }
  bool peer_up(MemberIndex peer) const { return peers_.up(peer); }
  // The failure detector's phi for `peer` at `now_ms` (0 for this node and before any heartbeat).
  double peer_phi(MemberIndex peer, uint64_t now_ms) const { return peers_.phi(peer, now_ms); }
  // The node id a peer announced in its Hello; empty until then.
  const std::string& peer_node_id(MemberIndex peer) const { return peers_.node_id(peer); }
  // Every part's counters, together.
  NodeCounters counters() const;
  const AntiEntropy& anti_entropy() const { return anti_entropy_; }
  const TombstoneReaper& reaper() const { return reaper_; }
  uint64_t dot_floor() const { return dot_floor_; }
  size_t pending_requests() const {
    return writes_.pending() + reads_.pending() + forwards_.size() + lister_.pending();
  }
  // Hints this node holds, per intended owner (indexed by MemberIndex).
  const std::vector<uint64_t>& pending_hints() const { return handoff_.pending(); }
  // The owners that hint deliveries are under way to, one entry per delivery.
  std::vector<MemberIndex> handoffs_in_flight() const { return handoff_.in_flight(); }

 private:
  struct PendingForward {
    Origin origin;
    ClientRequest request;
    std::vector<MemberIndex> candidates;  // reachable replicas first
    size_t tried = 0;
    uint64_t deadline_ms = 0;
  };
  // A replica read or write served for a peer's coordinator.
  struct Serving {
    MemberIndex peer = 0;
    RequestId id = 0;
    bool write = false;
    bool ack = false;  // a write the coordinator waits for (not a repair)
  };

  NodeView view() const { return NodeView{membership_.ring(), membership_.self(), peers_}; }
  void start(uint64_t now_ms, Origin origin, ClientRequest request, bool forwarded);
  void start_forward(uint64_t now_ms, Origin origin, ClientRequest request, std::vector<MemberIndex> replicas);
  void send_forward(RequestId id, PendingForward& forward);
  void forward_peer_down(MemberIndex peer);
  void forward_tick(uint64_t now_ms);
  void serve(MemberIndex peer, RequestId id, std::string key, std::optional<StorageUpdate> update, bool ack);
  void served(StorageDone& done);
  // After a Membership call: a newer ring is served by every part from now on.
  void follow_ring();
  // Records transfers' progress in the cluster state.
  void record(const std::vector<Transfer>& progress);

  // Tombstone reaping (node_reaping.cc).
  void reap_tick(uint64_t now_ms);
  void on_reap_check(uint64_t now_ms, MemberIndex from, const ReapCheck& check);
  void on_reap_reply(MemberIndex from, const ReapCheckReply& reply);
  // Sends a round's outcome to every member and removes the tombstones here too.
  void reap_everywhere(const Reap& reap);
  // Removes those of `reap`'s tombstones this node still holds exactly, after raising its dot floor.
  void remove_tombstones(const Reap& reap);

  NodeOptions options_;
  std::string actor_;
  Outbox out_;  // before the parts: Membership's constructor may announce this node's id
  Membership membership_;
  uint64_t ring_version_;  // the ring every part serves by
  Peers peers_;
  WriteCoordinator writes_;
  ReadCoordinator reads_;
  HintedHandoff handoff_;
  AntiEntropy anti_entropy_;
  TombstoneReaper reaper_;
  KeyLister lister_;
  Transfers transfers_;
  std::map<RequestId, PendingForward> forwards_;
  // Forwards taken here, by (forwarder, its request id), until twice the forwarder's wait is over:
  // a Forward that arrives twice (a duplicating network) is coordinated once, so a write is not
  // stored under two dots. Expiries in arrival order, which is their order.
  std::set<std::pair<MemberIndex, RequestId>> forwards_taken_;
  std::deque<std::pair<uint64_t, std::pair<MemberIndex, RequestId>>> forwards_taken_expiry_;
  std::map<RequestId, Serving> serving_;  // by storage op
  NodeCounters counters_;  // the node's own fields; counters() fills in every part's
  uint64_t dot_floor_ = 0;  // new dots are numbered above it (DvvSet::update)
};

}  // namespace md::core
