// Hinted handoff (Dynamo 4.6): the hints a node keeps for replicas that were down or silent, and
// their delivery. A hint is kept in the engine under the owner's name (hinted_handoff.h), merged
// per owner and key; it is delivered whenever the owner is reachable (at once on peer up; retried
// on ticks with backoff), or to a new owner of the key once the owner was removed from the cluster,
// and removed only after the recipient acknowledged storing it, and only if no
// newer write merged into it meanwhile. Every storage operation on a hint goes through advance(),
// one at a time per hint, so a removal never overtakes a merge whatever order the host's storage
// runs operations in.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/hinted_handoff.h"
#include "core/messages.h"
#include "core/node_view.h"
#include "core/outbox.h"

namespace md::core {

struct HandoffOptions {
  uint32_t hints_max = 1'000'000;        // pending hints held (one per owner and key); beyond it: refused
  uint32_t handoffs_in_flight_max = 16;  // hint deliveries at once: handoff is background work
  uint64_t retry_ms = 100;               // a failed delivery is retried after this, doubled per failure,
  uint64_t retry_max_ms = 2000;          // up to this
  uint64_t delivery_timeout_ms = 2000;   // a delivery unanswered this long failed
};

struct HandoffCounters {
  uint64_t hints_stored = 0;      // writes kept as hints for a down or silent replica (merged per key)
  uint64_t hints_refused = 0;     // hinted writes refused: hints_max reached
  uint64_t hints_delivered = 0;   // hints the owner acknowledged, then removed
  uint64_t handoff_failures = 0;  // deliveries that failed or timed out (retried with backoff)
  uint64_t hints_recovered = 0;   // pending hints found in the engine at start
  uint64_t hints_unreadable = 0;  // hint keys at start that name no member (left in the engine)
};

// Who is told when a hint is stored: the peer whose HintedWrite it was, a write this node
// coordinates (to == self), or no one (id 0).
struct HintAck {
  MemberIndex to = 0;
  RequestId id = 0;
};

// A hint stored (or not) for a write this node coordinates: the write coordinator counts it.
struct LocalHintAck {
  RequestId write = 0;
  MemberIndex owner = 0;
  bool ok = false;
};

class HintedHandoff {
 public:
  HintedHandoff(size_t members, HandoffOptions options);
  HintedHandoff(const HintedHandoff&) = delete;
  HintedHandoff& operator=(const HintedHandoff&) = delete;

  // The ring grew to `members`.
  void resize(size_t members) { pending_.resize(members, 0); }

  // Keeps `object` (a valid encoded object) as a hint for `owner`, telling `ack` once stored.
  // False if refused: hints_max hints are held.
  [[nodiscard]] bool store(Outbox& out, const NodeView& view, MemberIndex owner, const std::string& key,
                           const std::string& object, HintAck ack);
  // The completion of a storage operation this part started (Part::handoff). Returns the
  // acknowledgements due to this node's own writes.
  [[nodiscard]] std::vector<LocalHintAck> on_storage_done(Outbox& out, const NodeView& view, uint64_t now_ms,
                                                          const StorageDone& done);
  // A ReplicaWriteReply: true if it answered one of the deliveries in flight (then it is handled).
  bool on_delivery_reply(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId id, MemberIndex from, bool ok);
  // The owner's hints are due at once, whatever backoff earlier failures built up.
  void on_peer_up(MemberIndex peer);
  void on_peer_down(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex peer);
  // Fails deliveries past their deadline and starts due ones to reachable owners.
  void on_tick(Outbox& out, const NodeView& view, uint64_t now_ms);
  // The storage keys of the hints the engine holds (kHintPartition), found at start; they are
  // delivered like hints stored in this life.
  void recovered(const NodeView& view, const std::vector<std::string>& hint_keys);

  // A hint for `key` is held here, for any owner (its tombstone must not be reaped yet).
  bool holds(std::string_view key) const;
  // Hints held, per intended owner (indexed by MemberIndex).
  const std::vector<uint64_t>& pending() const { return pending_; }
  // The owners that deliveries are under way to, one entry per delivery.
  std::vector<MemberIndex> in_flight() const;
  const HandoffCounters& counters() const { return counters_; }

 private:
  struct HintKey {
    MemberIndex owner = 0;
    std::string key;
    auto operator<=>(const HintKey&) const = default;
  };
  // One hint: at most one storage operation on it at a time; hinted writes that arrive meanwhile
  // wait, merged into one.
  struct Hint {
    enum class Stage : uint8_t { idle, reading, delivering, removing };
    Stage stage = Stage::idle;
    bool busy = false;   // a storage operation on it is in flight
    std::string queued;  // encoded merge of the waiting hinted writes; empty: none wait
    std::vector<HintAck> queued_acks;
    std::vector<HintAck> acks;  // of the merge in flight
    uint64_t generation = 0;    // counts merges, so a delivery removes only a hint it carried whole
    uint64_t delivered_generation = 0;
    RequestId delivery = 0;
    uint64_t deadline_ms = 0;  // of the delivery in flight
    uint64_t due_ms = 0;       // next delivery attempt
    uint32_t failures = 0;
  };
  enum class Step : uint8_t { merge, read, remove };  // what a storage operation on a hint was

  // Who a hint goes to: its owner, or once the owner has left the cluster (removed), the first
  // other node of the key's preference list: a new owner of the key.
  static std::optional<MemberIndex> recipient(const NodeView& view, const HintKey& hk);
  void advance(Outbox& out, const NodeView& view, const HintKey& hk);
  void ack(Outbox& out, const NodeView& view, const HintAck& ack, MemberIndex owner, bool ok,
           std::vector<LocalHintAck>& local);
  void merged(Outbox& out, const NodeView& view, const HintKey& hk, bool ok, std::vector<LocalHintAck>& local);
  void read(Outbox& out, const NodeView& view, uint64_t now_ms, const HintKey& hk, const StorageDone& done);
  void removed(Outbox& out, const NodeView& view, const HintKey& hk, bool ok);
  void failed(Outbox& out, const NodeView& view, uint64_t now_ms, const HintKey& hk);
  void erase(std::map<HintKey, Hint>::iterator it);
  void storage(Outbox& out, const NodeView& view, const HintKey& hk, std::optional<StorageUpdate> update, Step step);

  HandoffOptions options_;
  std::map<HintKey, Hint> hints_;
  std::vector<uint64_t> pending_;                            // per owner
  std::map<RequestId, HintKey> deliveries_;                  // in flight, by request id
  std::map<RequestId, std::pair<HintKey, Step>> storage_;    // storage operations in flight
  uint64_t next_scan_ms_ = 0;
  HandoffCounters counters_;
};

}  // namespace md::core
