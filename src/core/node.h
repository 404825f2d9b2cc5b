// The protocol of one node as a pure state machine: events in, effects out.
//
// The runtime (and the simulator) feed it client requests, peer messages, storage completions,
// peer up/down notices and clock ticks, each with the current time, and then carry out the effects
// it returns (take_effects) in order: messages to send, replies to give, storage operations to
// run. It never blocks and does no I/O, so the same code runs in the real node and in the
// deterministic simulator.
//
// What it does (Dynamo's coordination, with dotted version vectors):
//  - Replicas converge without reads by anti-entropy (core/anti_entropy.h): the node keeps a hash
//    tree per partition, fed by every stored update, and periodically compares it with a peer's.
//  - Peers are up, suspect or down (PeerStatus): the connection notices say down, and a
//    phi-accrual detector over heartbeats (sent every FailureDetectorOptions interval) says suspect.
//  - A request for a key whose preference list (first N distinct nodes from the key's partition)
//    does not include this node is forwarded to a reachable node of that list.
//  - A write: this node makes the new dot and stores the object locally (one atomic storage step),
//    sends the resulting object to the other N-1 replicas, and answers after W acknowledgements,
//    its own included; or 503 when W can no longer be reached or the deadline passes.
//  - A read: asks all N replicas, answers after R replies with their merge, and once all replied
//    (or the repair window ends) sends the merged object to every replica that answered with a
//    stale or missing copy.
#pragma once

#include <cstdint>
#include <string>
#include <map>
#include <vector>

#include "core/anti_entropy.h"
#include "core/failure_detector.h"
#include "core/messages.h"
#include "core/quorum.h"
#include "core/ring.h"

namespace md::core {

struct NodeOptions {
  Quorum defaults;                        // N/R/W for requests that leave them out
  uint64_t request_timeout_ms = 2000;     // unanswered by then: 503 (a write may still land later)
  uint64_t read_repair_window_ms = 1000;  // after a read's answer, late replies within this are repaired too
  uint32_t siblings_max = 100;            // a coordinator refuses a write that would leave more (Riak: 100)
  uint32_t pending_requests_max = 65536;  // requests in flight at this node; beyond it: 503 at once
  FailureDetectorOptions failure_detector;
  AntiEntropyOptions anti_entropy;
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
};

class Node {
 public:
  // `request_id_base` must differ between incarnations of a node (the runtime draws it from the
  // OS, the simulator from its seed): replies that peers send to an earlier incarnation must never
  // match a request of this one.
  Node(Ring ring, MemberIndex self, std::string node_id, NodeOptions options, uint64_t request_id_base);

  // `client` is the runtime's handle for the reply (ReplyClient carries it back).
  void on_client_request(uint64_t now_ms, RequestId client, ClientRequest request);
  void on_peer_message(uint64_t now_ms, MemberIndex from, PeerMessage message);
  void on_storage_done(uint64_t now_ms, StorageDone done);
  void on_scan_done(ScanDone done);
  // A key found in the engine at start: rebuilds the anti-entropy trees (before serving).
  void load_object(uint32_t partition, std::string_view key, std::string_view object);
  // The connection to `peer` is up (a Hello is sent) or lost (what it owed us counts as failed).
  void on_peer_up(MemberIndex peer);
  void on_peer_down(uint64_t now_ms, MemberIndex peer);
  // Expires deadlines, sends heartbeats and updates suspicions; call it every few milliseconds.
  void on_tick(uint64_t now_ms);

  // The effects produced since the last call, in the order they must be carried out.
  std::vector<Effect> take_effects();

  const Ring& ring() const { return ring_; }
  MemberIndex self() const { return self_; }
  const std::string& node_id() const { return node_id_; }
  PeerStatus peer_status(MemberIndex peer) const;
  bool peer_up(MemberIndex peer) const { return peer_status(peer) == PeerStatus::up; }
  // The failure detector's phi for `peer` at `now_ms` (0 for this node and before any heartbeat).
  double peer_phi(MemberIndex peer, uint64_t now_ms) const;
  // The node id a peer announced in its Hello; empty until then.
  const std::string& peer_node_id(MemberIndex peer) const { return peer_ids_[peer]; }
  const NodeCounters& counters() const { return counters_; }
  const AntiEntropy& anti_entropy() const { return anti_entropy_; }
  size_t pending_requests() const { return writes_.size() + reads_.size() + forwards_.size(); }

 private:
  // Who gets the answer: a local client or a peer that forwarded the request.
  struct Origin {
    bool from_peer = false;
    MemberIndex peer = 0;
    RequestId id = 0;
  };
  enum class Slot : uint8_t { waiting, replied, failed };
  struct PendingWrite {
    Origin origin;
    std::string key;
    std::vector<MemberIndex> replicas;
    std::vector<Slot> slots;
    uint32_t w = 0;
    uint64_t deadline_ms = 0;
    std::string context_token;
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
  using Continuation = std::variant<AfterLocalWrite, AfterLocalRead, AfterServeRead, AfterServeWrite, AfterRepair>;
  struct PendingOp {
    uint32_t partition;
    std::string key;
    bool update;  // a stored update changes the anti-entropy tree
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
  void write_replied(RequestId id, MemberIndex from, bool ok);
  void check_write(RequestId id);
  void read_replied(uint64_t now_ms, RequestId id, size_t slot, bool ok, std::optional<std::string> object);
  void check_read(uint64_t now_ms, RequestId id);
  DvvSet merge_replies(const PendingRead& read);
  void repair(const PendingRead& read);

  void storage(RequestId op, uint32_t partition, std::string key, std::optional<StorageUpdate> update,
               Continuation then);
  void respond(const Origin& origin, ClientResponse response);
  void fail(const Origin& origin, Outcome outcome, std::string message, uint32_t acknowledged = 0,
            uint32_t required = 0);
  void send(MemberIndex to, PeerMessage message) { effects_.push_back(SendPeer{to, std::move(message)}); }
  void heartbeats(uint64_t now_ms);

  Ring ring_;
  MemberIndex self_;
  std::string node_id_;
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
  std::map<RequestId, PendingOp> ops_;
  std::vector<Effect> effects_;
  NodeCounters counters_;
  AntiEntropy anti_entropy_;  // last: it holds references to effects_ and next_id_
};

}  // namespace md::core
