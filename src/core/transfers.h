// Active partition transfer (riak_core's handoff): while the ring's owners change (a join, leave,
// remove or replace; core/cluster_state.h), each partition's data is streamed to every member that
// becomes one of its replicas, before the new owners serve.
//
// The source of a transfer reads the partition in key order after the transfer's cursor, one
// bounded batch at a time (at most batch_keys keys and batch_bytes bytes), and sends it; the
// receiver merges every object like a replica write (durably) and acknowledges the batch; only then
// does the next batch start (one batch in flight per transfer: the receiver's pace is the flow
// control), and at most sending_max transfers run at once per source. The cursor and count of what
// was acknowledged are recorded in the cluster state (at most every publish_ms, and at once when
// the transfer is done), so every node shows the progress, and a transfer resumes after its cursor
// when either side restarts: a batch unacknowledged by its deadline, or whose receiver went down,
// is read and sent again from the cursor (merging an object twice changes nothing).
//
// Writes that arrive meanwhile are not lost: coordinators send them to the next owners' replicas
// too (Node), so a key the transfer had already passed is written there directly.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/cluster_state.h"
#include "core/messages.h"
#include "core/node_view.h"
#include "core/outbox.h"

namespace md::core {

struct TransferOptions {
  uint32_t batch_keys = 256;           // keys per batch, at most
  uint64_t batch_bytes = 1 << 20;      // bytes of objects per batch, about (one object may pass it)
  uint32_t sending_max = 2;            // transfers this node sends at once
  uint64_t ack_timeout_ms = 5000;      // a batch unacknowledged this long is sent again
  uint64_t retry_ms = 1000;            // after a refused batch or a failed read, the wait before the next try
  uint64_t publish_ms = 1000;          // progress goes into the cluster state at most this often
};

struct TransferCounters {
  uint64_t batches_sent = 0;      // batches this node sent as a source (resent ones included)
  uint64_t keys_sent = 0;         // keys in batches acknowledged by their receiver
  uint64_t batches_received = 0;  // batches this node stored as a receiver
  uint64_t keys_received = 0;
  uint64_t batches_resent = 0;    // batches read and sent again: unacknowledged, refused, or the receiver went down
  uint64_t transfers_done = 0;    // transfers this node finished as a source
};

class Transfers {
 public:
  Transfers(MemberIndex self, TransferOptions options) : self_(self), options_(options) {}
  Transfers(const Transfers&) = delete;
  Transfers& operator=(const Transfers&) = delete;

  // Source side. Follows the state's plan: starts the transfers this node sends (to receivers that
  // are up), drops those the plan no longer has, resends overdue batches. Returns the progress to
  // record in the cluster state (Membership::transfer_progress).
  std::vector<Transfer> on_tick(Outbox& out, const ClusterState& state, const NodeView& view, uint64_t now_ms);
  // A scan this part asked for: true if it was one (then it is handled).
  bool on_scan_done(Outbox& out, uint64_t now_ms, const ScanDone& done);
  // The receiver's acknowledgement; returns progress to record (a transfer just finished).
  std::vector<Transfer> on_ack(Outbox& out, uint64_t now_ms, MemberIndex from, const TransferAck& ack);
  void on_peer_down(MemberIndex peer);

  // Receiver side: stores the batch's objects (Part::transfers), then acknowledges it.
  void on_batch(Outbox& out, const NodeView& view, MemberIndex from, TransferBatch batch);
  void on_storage_done(Outbox& out, const StorageDone& done);

  // The transfers this node sends now, with their progress as acknowledged.
  std::vector<Transfer> sending() const;
  const TransferCounters& counters() const { return counters_; }

 private:
  struct Sending {
    Transfer progress;       // as acknowledged
    RequestId scan = 0;      // the scan of the next batch in flight; 0: none
    RequestId batch = 0;     // the batch in flight; 0: none
    std::string batch_last = {};  // its last key
    uint64_t batch_keys = 0;
    bool batch_final = false;  // the partition has no keys after it
    uint64_t deadline_ms = 0;  // of the batch in flight, or when to read it again after a refusal
    bool unpublished = false;  // progress not yet recorded in the cluster state
  };
  struct Receiving {
    MemberIndex from = 0;
    RequestId id = 0;
    size_t remaining = 0;
    bool ok = true;
  };
  using Key = std::pair<uint32_t, MemberIndex>;  // (partition, receiver)

  void read_next(Outbox& out, Sending& s);

  MemberIndex self_;
  TransferOptions options_;
  std::map<Key, Sending> sending_;
  std::map<RequestId, Key> scans_;    // scan op -> transfer
  std::map<RequestId, Key> batches_;  // batch id -> transfer
  uint64_t last_publish_ms_ = 0;
  std::map<RequestId, RequestId> storing_;  // storage op -> received batch (our key for it)
  std::map<RequestId, Receiving> received_;
  TransferCounters counters_;
};

}  // namespace md::core
