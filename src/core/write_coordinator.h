// The writes this node coordinates (Dynamo's put state machine, with Riak's fallbacks): the
// coordinator, a replica of the key, makes the write's dot and stores the object locally in one
// atomic storage step (CoordinatorWrite), sends the resulting object to the other N-1 replicas,
// and answers after W acknowledgements, its own included; or 503 when W can no longer be reached
// or the deadline passes. Where the step is fsynced, the object goes out as soon as the step has
// decided it (on_storage_applied), so that the replicas write and sync it while this node does;
// its own copy counts once it is stored. A dot may thus reach replicas that this node then fails
// to store, or loses in a crash. A crash begins a new actor epoch (core/actor_epoch.h). Within a
// run, a key's writes take their local storage steps one at a time, and when a step fails after
// its object went out, the object is stored here again (merged, retried every tick) before the
// key's next write takes its step: the next dot is made from a copy that holds the one that went
// out, never beside a gap (a counter skipped would claim the lost write as seen).
//
// A replica known to be down (or one that fails) gets a stand-in: for a sloppy write not yet
// answered, the first healthy node of the key's ring walk beyond its N replicas, which keeps the
// write as a hint and counts toward W (another machine holds it); otherwise this coordinator
// keeps the hint, which does not count (a hint beside a replica on one machine is not another
// copy). A write lives until every replica has it or a hint for it, even after its answer, and
// at its deadline the coordinator keeps a hint for every replica still without it, so an
// acknowledged write reaches all N replicas without a read.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/handoff.h"
#include "core/messages.h"
#include "core/node_view.h"
#include "core/outbox.h"

namespace md::core {

struct WriteOptions {
  uint64_t request_timeout_ms = 2000;  // unanswered by then: 503 (the write may still land later)
  // Mutation test only (the simulator's --buggy-colocated-hints): a hint kept on a node that
  // holds a replica counts toward W, as it did before W counted machines.
  bool buggy_colocated_hints = false;
};

// What a write is: the key, where it goes, and how many must hold it before the answer.
struct WriteRequest {
  std::string key;
  uint32_t partition = 0;
  std::vector<MemberIndex> owners;  // the key's N replicas, this node among them
  uint32_t w = 0;
  bool sloppy = true;               // fallbacks count toward W
  CoordinatorWrite update;          // the local storage step that makes the dot
  // Members that become replicas of the key once a change of owners is done (core/transfers.h):
  // they get the write too, not counted toward W, with a hint here if they fail.
  std::vector<MemberIndex> incoming = {};
};

class WriteCoordinator {
 public:
  explicit WriteCoordinator(WriteOptions options) : options_(options) {}
  WriteCoordinator(const WriteCoordinator&) = delete;
  WriteCoordinator& operator=(const WriteCoordinator&) = delete;

  // Stores the write here, and sends it on once its object is decided.
  void start(Outbox& out, const NodeView& view, uint64_t now_ms, const Origin& origin, WriteRequest request);
  // The local storage step `op` decided the write's object (encoded) and is writing and syncing
  // it: the object goes to the other targets now. Not every host reports this: without it, the
  // object goes out with the step's completion.
  void on_storage_applied(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId op,
                          std::string_view object);
  // The completion of a local storage step (Part::writes).
  void on_storage_done(Outbox& out, const NodeView& view, HintedHandoff& handoff, const StorageDone& done);
  // `node` stored the write (ok) for `owner` (node == owner: a replica; else a hint), or failed
  // to: a ReplicaWriteReply, a HintedWriteReply, or a hint of this node's (LocalHintAck).
  void on_stored(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id, MemberIndex node,
                 MemberIndex owner, bool ok);
  // What `peer` was to store counts as failed; stand-ins take its place.
  void on_peer_down(Outbox& out, const NodeView& view, HintedHandoff& handoff, MemberIndex peer);
  void on_tick(Outbox& out, const NodeView& view, HintedHandoff& handoff, uint64_t now_ms);

  size_t pending() const { return writes_.size(); }

 private:
  enum class Slot : uint8_t { waiting, replied, failed };
  // Where a write goes: a replica (node == owner), or a node keeping a hint for owner.
  struct Target {
    MemberIndex node = 0;
    MemberIndex owner = 0;
    bool counts = true;  // toward W: replicas, and fallbacks of a sloppy write
    Slot slot = Slot::waiting;
  };
  struct PendingWrite {
    Origin origin;
    std::string key;
    uint32_t partition = 0;
    std::vector<MemberIndex> owners;
    std::vector<Target> targets;
    uint32_t w = 0;
    bool sloppy = true;
    bool answered = false;
    uint64_t deadline_ms = 0;
    std::optional<CoordinatorWrite> update;  // while it waits for another write of its key
    std::string object;  // encoded, once decided by the local storage step; empty before
    std::string context_token;
  };

  // A local storage step in flight: the write it is for (0: a restore), its key, and the object
  // once it went out (empty before).
  struct LocalWrite {
    RequestId write = 0;
    uint32_t partition = 0;
    std::string key;
    std::string sent;
  };
  // An object that went out and failed to be stored here: stored again before the key's next write.
  struct Restore {
    uint32_t partition = 0;
    std::string object;
    bool in_flight = false;
  };

  void store_locally(Outbox& out, RequestId id, const PendingWrite& write, CoordinatorWrite update);
  void start_next(Outbox& out, const std::string& key);
  // Write `id`'s own copy is `stored`, or failed (`done` says why).
  void local_done(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id, bool stored,
                  const StorageDone& done);
  void send_out(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id, PendingWrite& write,
                std::string object, const VersionVector& context);
  void dispatch(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id, PendingWrite& write,
                size_t target);
  void settle(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id, PendingWrite& write,
              Target& target, bool ok);
  std::optional<Target> stand_in(const NodeView& view, const PendingWrite& write, MemberIndex owner) const;
  void check(Outbox& out, RequestId id);
  void expire(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id);

  WriteOptions options_;
  std::map<RequestId, PendingWrite> writes_;
  std::map<RequestId, LocalWrite> local_writes_;  // by storage op
  // The keys with a local storage step in flight or a restore due, each with the writes waiting
  // for it, in order.
  std::map<std::string, std::deque<RequestId>> busy_keys_;
  std::map<std::string, Restore> restores_;  // by key
};

}  // namespace md::core
