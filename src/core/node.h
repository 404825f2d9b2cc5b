// The protocol of one node as a pure state machine: events in, effects out.
//
// The runtime (and the simulator) feed it client requests, peer messages, storage completions,
// peer up/down notices and clock ticks, each with the current time, and then carry out the effects
// it returns (take_effects) in order: messages to send, replies to give, storage operations to
// run. It never blocks and does no I/O, so the same code runs in the real node and in the
// deterministic simulator.
//
// What it does (Dynamo's coordination, with dotted version vectors):
//  - Membership spreads by gossip (core/cluster_state.h, node_membership.cc): every gossip
//    interval the node sends its cluster state to one random reachable member, which merges it and
//    answers with its own if they differed (push-pull). A node asking to join (on_join_request) is
//    announced in the state; the claimant admits joiners into a new ring version, and every node
//    that learns a new ring version serves by it (SaveClusterState asks the runtime to keep it).
//  - Replicas converge without reads by anti-entropy (core/anti_entropy.h): the node keeps a hash
//    tree per partition, fed by every stored update, and periodically compares it with a peer's.
//  - Peers are up, suspect or down (PeerStatus): the connection notices say down, and a
//    phi-accrual detector over heartbeats (sent every FailureDetectorOptions interval) says suspect.
//  - A request for a key whose preference list (first N distinct nodes from the key's partition)
//    does not include this node is forwarded to a reachable node of that list. A read whose
//    coordinator goes down is forwarded to the next; a write is not (it may have been stored, and
//    a second coordinator would store it again under another dot): it answers 503, indeterminate.
//  - A write: this node makes the new dot and stores the object locally (one atomic storage step),
//    sends the resulting object to the other N-1 replicas, and answers after W acknowledgements,
//    its own included; or 503 when W can no longer be reached or the deadline passes.
//  - Sloppy quorum (the default; ClientRequest::sloppy_quorum): a replica known to be down (or
//    that fails during the write) is stood in for by the next healthy node of the key's ring walk
//    beyond the first N (or, with fewer healthy nodes than N, by a healthy replica), which keeps
//    the write as a hint for it and counts toward W. A strict write counts only the N replicas.
//  - Every replica that has not acknowledged a write by its deadline (or failed) gets the write as
//    a hint kept by this coordinator, so an acknowledged write reaches all N replicas without a
//    read, unless the coordinator crashes first.
//  - Hinted handoff: a node delivers the hints it holds to their owner whenever the owner is
//    reachable (at once on peer up; retried on ticks with backoff), and removes a hint only after
//    the owner acknowledged storing it, and only if no newer write merged into the hint meanwhile.
//    Hints live in the engine (hinted_handoff.h); on start the runtime passes their keys in.
//  - A read: asks all N replicas, answers after R replies with their merge, and once all replied
//    (or the repair window ends) sends the merged object to every replica that answered with a
//    stale or missing copy.
//  - Tombstone reaping (core/tombstone_reaper.h, node_reaping.cc): a deleted key is removed from
//    every member once all of them held its tombstone for the grace period and none holds a hint
//    for it; new dots are numbered above the counters of every tombstone removed here.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <map>
#include <set>
#include <vector>

#include "core/actor_epoch.h"
#include "core/anti_entropy.h"
#include "core/cluster_state.h"
#include "core/failure_detector.h"
#include "core/hinted_handoff.h"
#include "core/messages.h"
#include "core/quorum.h"
#include "core/ring.h"
#include "core/tombstone_reaper.h"

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
  // Mutation test only (the simulator's --buggy-colocated-hints): a hint kept on a node that
  // holds a replica counts toward W, as it did before W counted machines.
  bool buggy_colocated_hints = false;
};

// How this node sees a peer: its connection is up and heartbeats arrive (up), the connection is
// up but heartbeats stopped (suspect: a hung process, a one-way or silent partition), or the
// connection is down.
enum class PeerStatus : uint8_t { up, suspect, down };
const char* to_string(PeerStatus status);

struct NodeCounters {
  uint64_t client_requests = 0;
  uint64_t forwarded = 0;
  uint64_t quorum_failures = 0;
  uint64_t read_repairs = 0;        // replica copies repaired after reads
  uint64_t blind_writes = 0;        // puts without a context (each may add a sibling)
  uint64_t replica_writes = 0;      // writes (and repairs) from other coordinators, applied locally
  uint64_t replica_reads = 0;       // reads served to other coordinators
  uint64_t bad_replica_objects = 0; // replies whose object did not decode
  uint64_t suspicions = 0;          // times a peer became suspect (its heartbeats stopped)
  uint64_t hints_stored = 0;        // writes kept as hints for a down or silent replica (merged per key)
  uint64_t hints_refused = 0;       // hinted writes refused: hints_max reached
  uint64_t hints_delivered = 0;     // hints the owner acknowledged, then removed
  uint64_t handoff_failures = 0;    // deliveries that failed or timed out (retried with backoff)
  uint64_t hints_recovered = 0;     // pending hints found in the engine at start
  uint64_t hints_unreadable = 0;    // hint keys at start that name no member (left in the engine)
  uint64_t gossip_rounds = 0;       // cluster states this node sent on its own initiative
  uint64_t gossip_refused = 0;      // states received from another cluster, or invalid ones
  uint64_t duplicate_ids_refused = 0;  // states, joins and hellos refused: a node id held by another address
  uint64_t ring_changes = 0;        // newer ring versions adopted (or made, by the claimant)
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
  void on_scan_done(ScanDone done);
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

  // A node at `address` with `node_id` asks to join (through this node): it is announced in the
  // state, which gossip carries to the claimant; the joiner starts serving once its address is in
  // the ring (cluster_state()). An id that another address holds is refused (Code::conflict);
  // while this node does not know every member's id yet, the join waits (Code::unavailable).
  Status on_join_request(const std::string& address, const std::string& node_id);

  // The effects produced since the last call, in the order they must be carried out.
  std::vector<Effect> take_effects();

  const Ring& ring() const { return ring_; }
  const ClusterState& cluster_state() const { return state_; }
  MemberIndex self() const { return self_; }
  const std::string& node_id() const { return node_id_; }
  // The id this node makes new dots under (actor_epoch.h).
  const std::string& actor() const { return actor_; }
  // The address of another node found claiming this node's id (in its hello, gossip or the state
  // this node started from); empty if none. While it is set this node coordinates no writes: two
  // coordinators under one id would make the same dots for different writes.
  const std::string& id_conflict() const { return id_conflict_; }
  PeerStatus peer_status(MemberIndex peer) const;
  bool peer_up(MemberIndex peer) const { return peer_status(peer) == PeerStatus::up; }
  // The failure detector's phi for `peer` at `now_ms` (0 for this node and before any heartbeat).
  double peer_phi(MemberIndex peer, uint64_t now_ms) const;
  // The node id a peer announced in its Hello; empty until then.
  const std::string& peer_node_id(MemberIndex peer) const { return peer_ids_[peer]; }
  const NodeCounters& counters() const { return counters_; }
  const AntiEntropy& anti_entropy() const { return anti_entropy_; }
  const TombstoneReaper& reaper() const { return reaper_; }
  uint64_t dot_floor() const { return dot_floor_; }
  size_t pending_requests() const { return writes_.size() + reads_.size() + forwards_.size(); }
  // Hints this node holds, per intended owner (indexed by MemberIndex).
  const std::vector<uint64_t>& pending_hints() const { return pending_hints_; }
  // The owners that hint deliveries are under way to, one entry per delivery.
  std::vector<MemberIndex> handoffs_in_flight() const;

 private:
  // Who gets the answer: a local client or a peer that forwarded the request.
  struct Origin {
    bool from_peer = false;
    MemberIndex peer = 0;
    RequestId id = 0;
  };
  enum class Slot : uint8_t { waiting, replied, failed };
  // Where a write goes: a replica (node == owner), or a node keeping a hint for owner.
  struct WriteTarget {
    MemberIndex node = 0;
    MemberIndex owner = 0;
    bool counts = true;  // toward W: replicas, and fallbacks of a sloppy write
    Slot slot = Slot::waiting;
  };
  // A write lives until every replica has it or a hint for it (or its deadline), even after
  // its answer, so that no replica is left without the write.
  struct PendingWrite {
    Origin origin;
    std::string key;
    uint32_t partition = 0;
    std::vector<MemberIndex> owners;  // the key's N replicas
    std::vector<WriteTarget> targets;
    uint32_t w = 0;
    bool sloppy = true;
    bool answered = false;
    uint64_t deadline_ms = 0;
    std::string object;  // encoded, once stored locally; empty before
    std::string context_token;
  };
  struct HintKey {
    MemberIndex owner = 0;
    std::string key;
    auto operator<=>(const HintKey&) const = default;
  };
  // Who is told when a hint is stored: a peer's HintedWrite, a target of a local write, or no one.
  struct HintAck {
    MemberIndex to = 0;  // self: the write `id` of this node
    RequestId id = 0;    // 0: no one waits
  };
  // One hint: at most one storage operation on it at a time, so a removal never races a merge;
  // hinted writes that arrive meanwhile wait, merged into one.
  struct Hint {
    enum class Stage : uint8_t { idle, reading, delivering, removing };
    Stage stage = Stage::idle;
    bool busy = false;
    std::string queued;  // encoded merge of the waiting hinted writes; empty: none wait
    std::vector<HintAck> queued_acks;
    std::vector<HintAck> acks;  // of the merge in flight
    uint64_t generation = 0;    // counts merges, so a delivery removes only a hint it carried whole
    uint64_t delivered_generation = 0;
    RequestId delivery = 0;
    uint64_t deadline_ms = 0;   // of the delivery in flight
    uint64_t due_ms = 0;        // next delivery attempt
    uint32_t failures = 0;
  };
  struct PendingRead {
    Origin origin;
    std::string key;
    uint32_t partition = 0;
    std::vector<MemberIndex> replicas;
    std::vector<Slot> slots;
    std::vector<std::optional<std::string>> objects;
    uint32_t r = 0;
    uint64_t deadline_ms = 0;
    bool answered = false;
  };
  struct PendingForward {
    Origin origin;
    ClientRequest request;
    std::vector<MemberIndex> candidates;  // reachable replicas first
    size_t tried = 0;
    uint64_t deadline_ms = 0;
  };
  // What to do when a storage operation completes.
  struct AfterLocalWrite { RequestId write; };
  struct AfterLocalRead { RequestId read; size_t slot; };
  struct AfterServeRead { MemberIndex peer; RequestId id; };
  struct AfterServeWrite { MemberIndex peer; RequestId id; bool ack; };
  struct AfterRepair {};
  struct AfterHintMerge { HintKey hint; };
  struct AfterHintRead { HintKey hint; };
  struct AfterHintRemove { HintKey hint; };
  struct AfterReap {};
  using Continuation = std::variant<AfterLocalWrite, AfterLocalRead, AfterServeRead, AfterServeWrite, AfterRepair,
                                    AfterHintMerge, AfterHintRead, AfterHintRemove, AfterReap>;
  struct PendingOp {
    uint32_t partition;  // a ring partition, or kHintPartition
    std::string key;     // of an update; empty for a read
    bool update;  // a stored update of a ring partition changes the anti-entropy tree and the tombstones
    Continuation then;
  };

  void start(uint64_t now_ms, Origin origin, ClientRequest request, bool forwarded);
  void start_write(uint64_t now_ms, Origin origin, ClientRequest& request, const Quorum& q,
                   std::optional<VersionVector> context, uint32_t partition, std::vector<MemberIndex> replicas);
  void start_read(uint64_t now_ms, Origin origin, ClientRequest& request, const Quorum& q, uint32_t partition,
                  std::vector<MemberIndex> replicas);
  void start_forward(uint64_t now_ms, Origin origin, ClientRequest request, std::vector<MemberIndex> replicas);
  void send_forward(RequestId id, PendingForward& forward);

  void local_write_done(RequestId id, const StorageDone& done);
  void dispatch(RequestId id, PendingWrite& write, size_t target);
  void target_done(RequestId id, MemberIndex node, MemberIndex owner, bool ok);
  std::optional<WriteTarget> stand_in(const PendingWrite& write, MemberIndex owner) const;
  void check_write(RequestId id);
  void expire_write(RequestId id);
  void read_replied(uint64_t now_ms, RequestId id, size_t slot, bool ok, std::optional<std::string> object);
  void check_read(uint64_t now_ms, RequestId id);
  DvvSet merge_replies(const PendingRead& read);
  void repair(const PendingRead& read);

  // Hinted handoff (node_handoff.cc).
  bool store_hint(MemberIndex owner, const std::string& key, const std::string& object, HintAck ack);
  void advance_hint(const HintKey& hk);
  void ack_hint(const HintAck& ack, MemberIndex owner, bool ok);
  void hint_merged(const HintKey& hk, bool ok);
  void hint_read(uint64_t now_ms, const HintKey& hk, StorageDone& done);
  void handoff_replied(uint64_t now_ms, RequestId id, MemberIndex from, bool ok);
  void hint_removed(const HintKey& hk, bool ok);
  void handoff_failed(uint64_t now_ms, const HintKey& hk);
  void handoff_tick(uint64_t now_ms);
  void erase_hint(std::map<HintKey, Hint>::iterator it);
  std::string hint_storage_key(const HintKey& hk) const { return encode_hint_key(ring_.members()[hk.owner], hk.key); }

  void storage(RequestId op, uint32_t partition, std::string key, std::optional<StorageUpdate> update,
               Continuation then);
  void respond(const Origin& origin, ClientResponse response);
  void fail(const Origin& origin, Outcome outcome, std::string message, uint32_t acknowledged = 0,
            uint32_t required = 0);
  void send(MemberIndex to, PeerMessage message) { effects_.push_back(SendPeer{to, std::move(message)}); }
  void heartbeats(uint64_t now_ms);

  // Tombstone reaping (node_reaping.cc).
  void reap_tick(uint64_t now_ms);
  void on_reap_check(uint64_t now_ms, MemberIndex from, const ReapCheck& check);
  void on_reap_reply(MemberIndex from, const ReapCheckReply& reply);
  // Sends a round's outcome to every member and removes the tombstones here too.
  void reap_everywhere(const Reap& reap);
  // Removes those of `reap`'s tombstones this node still holds exactly, after raising its dot floor.
  void remove_tombstones(const Reap& reap);
  bool holds_hint(std::string_view key) const;

  // Membership (node_membership.cc).
  void gossip_tick(uint64_t now_ms);
  void on_gossip(MemberIndex from, Gossip gossip);
  // After the state changed: the claimant admits joiners; a newer ring is served from now on.
  void state_changed();
  // A duplicate node id was refused: counts it, warns once per message, and stops versioning
  // writes if it is this node's id (`holder` is then the other address).
  void refused_duplicate_id(const std::string& message, const std::string& holder, const std::string& id);

  ClusterState state_;
  uint64_t gossip_rng_;  // seeded from the request-id base: which member to gossip with
  uint64_t next_gossip_ms_ = 0;
  uint64_t ring_version_;  // of ring_
  Ring ring_;
  MemberIndex self_;
  std::string node_id_;
  std::string actor_;
  std::string id_conflict_;
  std::set<std::string> warned_;  // Warn messages already said
  NodeOptions options_;
  std::vector<bool> reachable_;  // the connection is up
  std::vector<PhiAccrualDetector> detectors_;
  std::vector<bool> suspected_;
  uint64_t next_heartbeat_ms_ = 0;
  std::vector<std::string> peer_ids_;
  RequestId next_id_;
  std::map<RequestId, PendingWrite> writes_;
  std::map<RequestId, PendingRead> reads_;
  std::map<RequestId, PendingForward> forwards_;
  // Forwards taken here, by (forwarder, its request id), until twice the forwarder's wait is over:
  // a Forward that arrives twice (a duplicating network) is coordinated once, so a write is not
  // stored under two dots. Expiries in arrival order, which is their order.
  std::set<std::pair<MemberIndex, RequestId>> forwards_taken_;
  std::deque<std::pair<uint64_t, std::pair<MemberIndex, RequestId>>> forwards_taken_expiry_;
  std::map<RequestId, PendingOp> ops_;
  std::map<HintKey, Hint> hints_;
  std::vector<uint64_t> pending_hints_;        // per owner
  std::map<RequestId, HintKey> handoffs_;      // deliveries in flight, by request id
  uint64_t next_handoff_scan_ms_ = 0;
  std::vector<Effect> effects_;
  NodeCounters counters_;
  uint64_t dot_floor_ = 0;    // new dots are numbered above it (DvvSet::update)
  TombstoneReaper reaper_;
  AntiEntropy anti_entropy_;  // last: it holds references to effects_ and next_id_
};

}  // namespace md::core
