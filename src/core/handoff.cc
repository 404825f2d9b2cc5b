#include "core/handoff.h"

#include <algorithm>
#include <cassert>

#include "core/dvv_set.h"
#include "core/object_codec.h"

namespace md::core {

HintedHandoff::HintedHandoff(size_t members, HandoffOptions options) : options_(options), pending_(members, 0) {}

bool HintedHandoff::store(Outbox& out, const NodeView& view, MemberIndex owner, const std::string& key,
                          const std::string& object, HintAck ack) {
  HintKey hk{owner, key};
  auto it = hints_.find(hk);
  if (it == hints_.end()) {
    if (hints_.size() >= options_.hints_max) {
      ++counters_.hints_refused;
      return false;
    }
    it = hints_.emplace(hk, Hint{}).first;
    ++pending_[owner];
  }
  ++counters_.hints_stored;
  auto& hint = it->second;
  ++hint.generation;
  if (hint.queued.empty()) {
    hint.queued = object;
  } else {
    DvvSet merged = *decode_object(hint.queued);  // both were validated before they got here
    merged.merge(*decode_object(object));
    hint.queued = encode_object(merged);
  }
  hint.queued_acks.push_back(ack);
  advance(out, view, hk);
  return true;
}

void HintedHandoff::storage(Outbox& out, const NodeView& view, const HintKey& hk, std::optional<StorageUpdate> update,
                            Step step) {
  auto& hint = hints_.at(hk);
  assert(!hint.busy && "one storage operation at a time per hint");
  hint.busy = true;
  RequestId op = out.storage(Part::handoff, kHintPartition, encode_hint_key(view.ring.members()[hk.owner], hk.key),
                             std::move(update));
  storage_.emplace(op, std::pair{hk, step});
}

// Starts the storage operation a hint waits for, unless one is in flight: the merge of the
// hinted writes that arrived, else the removal that the owner's acknowledgement allowed.
void HintedHandoff::advance(Outbox& out, const NodeView& view, const HintKey& hk) {
  auto& hint = hints_.at(hk);
  if (hint.busy) return;
  if (!hint.queued.empty()) {
    hint.acks = std::exchange(hint.queued_acks, {});
    storage(out, view, hk, MergeWrite{std::exchange(hint.queued, {})}, Step::merge);
  } else if (hint.stage == Hint::Stage::removing) {
    storage(out, view, hk, RemoveKey{}, Step::remove);
  }
}

std::vector<LocalHintAck> HintedHandoff::on_storage_done(Outbox& out, const NodeView& view, uint64_t now_ms,
                                                         const StorageDone& done) {
  std::vector<LocalHintAck> local;
  auto it = storage_.find(done.op);
  if (it == storage_.end()) return local;
  auto [hk, step] = std::move(it->second);
  storage_.erase(it);
  switch (step) {
    case Step::merge: merged(out, view, hk, done.status.is_ok(), local); break;
    case Step::read: read(out, view, now_ms, hk, done); break;
    case Step::remove: removed(out, view, hk, done.status.is_ok()); break;
  }
  return local;
}

void HintedHandoff::ack(Outbox& out, const NodeView& view, const HintAck& ack, MemberIndex owner, bool ok,
                        std::vector<LocalHintAck>& local) {
  if (ack.id == 0) return;
  if (ack.to == view.self) {
    local.push_back(LocalHintAck{ack.id, owner, ok});
  } else {
    out.send(ack.to, HintedWriteReply{ack.id, owner, ok});
  }
}

void HintedHandoff::merged(Outbox& out, const NodeView& view, const HintKey& hk, bool ok,
                           std::vector<LocalHintAck>& local) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && it->second.busy && "a hint stays while its merge is in flight");
  auto& hint = it->second;
  hint.busy = false;
  auto acks = std::exchange(hint.acks, {});
  advance(out, view, hk);
  // A failed merge leaves the index entry; its delivery finds what the engine has, or nothing.
  for (const auto& a : acks) ack(out, view, a, hk.owner, ok, local);
}

void HintedHandoff::read(Outbox& out, const NodeView& view, uint64_t now_ms, const HintKey& hk,
                         const StorageDone& done) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && it->second.busy && "a hint stays while a storage operation on it is in flight");
  auto& hint = it->second;
  hint.busy = false;
  const auto to = recipient(view, hk);
  if (!done.status.is_ok() || !to || !view.peers.up(*to)) return failed(out, view, now_ms, hk);
  if (!done.object) {  // its merge failed: nothing to deliver
    deliveries_.erase(hint.delivery);
    hint.stage = Hint::Stage::idle;
    if (hint.queued.empty()) return erase(it);
    return advance(out, view, hk);
  }
  // The owner merges it into its data like any replica write, and acknowledges once stored.
  hint.stage = Hint::Stage::delivering;
  hint.deadline_ms = now_ms + options_.delivery_timeout_ms;
  out.send(*to, ReplicaWrite{hint.delivery, hk.key, *done.object, true});
  advance(out, view, hk);
}

bool HintedHandoff::on_delivery_reply(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId id,
                                      MemberIndex from, bool ok) {
  auto d = deliveries_.find(id);
  if (d == deliveries_.end()) return false;
  HintKey hk = d->second;
  auto it = hints_.find(hk);
  assert(it != hints_.end() && "a hint stays while its delivery is in flight");
  auto& hint = it->second;
  if (from != recipient(view, hk) || hint.stage != Hint::Stage::delivering) return true;
  if (!ok) {
    failed(out, view, now_ms, hk);
    return true;
  }
  deliveries_.erase(d);
  hint.failures = 0;
  if (hint.generation != hint.delivered_generation) {
    // A newer write merged into the hint after it was read: the owner lacks that one yet.
    hint.stage = Hint::Stage::idle;
    hint.due_ms = now_ms;
    next_scan_ms_ = now_ms;
    return true;
  }
  hint.stage = Hint::Stage::removing;
  advance(out, view, hk);
  return true;
}

void HintedHandoff::removed(Outbox& out, const NodeView& view, const HintKey& hk, bool ok) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && it->second.busy && "a hint stays while it is removed");
  auto& hint = it->second;
  hint.busy = false;
  hint.stage = Hint::Stage::idle;  // if the removal failed, the next delivery repeats (merges are idempotent)
  if (ok) ++counters_.hints_delivered;
  if (ok && hint.queued.empty()) return erase(it);
  advance(out, view, hk);  // hinted writes that arrived during the removal start a new hint
}

void HintedHandoff::failed(Outbox& out, const NodeView& view, uint64_t now_ms, const HintKey& hk) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && "a delivery fails only for a hint held");
  auto& hint = it->second;
  assert((hint.stage == Hint::Stage::reading || hint.stage == Hint::Stage::delivering) && "only a delivery fails");
  deliveries_.erase(hint.delivery);
  ++counters_.handoff_failures;
  hint.stage = Hint::Stage::idle;
  ++hint.failures;
  uint64_t backoff = options_.retry_ms << std::min<uint32_t>(hint.failures - 1, 16);
  hint.due_ms = now_ms + std::min(backoff, options_.retry_max_ms);
  advance(out, view, hk);
}

void HintedHandoff::on_peer_up(MemberIndex peer) {
  for (auto it = hints_.lower_bound(HintKey{peer, {}}); it != hints_.end() && it->first.owner == peer; ++it) {
    it->second.due_ms = 0;
    it->second.failures = 0;
  }
  next_scan_ms_ = 0;
}

void HintedHandoff::on_peer_down(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex peer) {
  std::vector<HintKey> delivering;
  for (const auto& [id, hk] : deliveries_) {
    if (recipient(view, hk) == peer && hints_.at(hk).stage == Hint::Stage::delivering) delivering.push_back(hk);
  }
  for (const auto& hk : delivering) failed(out, view, now_ms, hk);
}

// The scan runs at most every retry_ms (or at once after a peer came up), starts up to
// handoffs_in_flight_max deliveries, and skips the hints of unreachable owners in one step each.
void HintedHandoff::on_tick(Outbox& out, const NodeView& view, uint64_t now_ms) {
  std::vector<HintKey> late;
  for (const auto& [id, hk] : deliveries_) {
    const auto& hint = hints_.at(hk);
    if (hint.stage == Hint::Stage::delivering && hint.deadline_ms <= now_ms) late.push_back(hk);
  }
  for (const auto& hk : late) failed(out, view, now_ms, hk);

  if (now_ms < next_scan_ms_) return;
  next_scan_ms_ = now_ms + options_.retry_ms;
  auto it = hints_.begin();
  while (it != hints_.end() && deliveries_.size() < options_.handoffs_in_flight_max) {
    MemberIndex owner = it->first.owner;
    if (auto to = recipient(view, it->first); !to || !view.peers.up(*to)) {
      // The owner's hints wait together; a departed owner's go to as many nodes as they have keys.
      it = view.ring.departed(owner) ? std::next(it) : hints_.lower_bound(HintKey{owner + 1, {}});
      continue;
    }
    auto& hint = it->second;
    if (hint.stage == Hint::Stage::idle && !hint.busy && hint.due_ms <= now_ms) {
      // Read what the engine holds now: every merge started before has landed (one operation at
      // a time), so the acknowledgement of this delivery covers generation `generation`.
      hint.stage = Hint::Stage::reading;
      hint.delivered_generation = hint.generation;
      hint.delivery = out.next_id();
      hint.deadline_ms = UINT64_MAX;
      deliveries_.emplace(hint.delivery, it->first);
      storage(out, view, it->first, std::nullopt, Step::read);
    }
    ++it;
  }
}

std::optional<MemberIndex> HintedHandoff::recipient(const NodeView& view, const HintKey& hk) {
  if (!view.ring.departed(hk.owner)) return hk.owner;
  for (MemberIndex m : view.ring.walk(view.ring.partition_of_key(hk.key))) {
    if (m != view.self) return m;
  }
  return std::nullopt;
}

void HintedHandoff::erase(std::map<HintKey, Hint>::iterator it) {
  assert(!it->second.busy && it->second.queued.empty() && "a hint goes only when nothing of it is in flight or waits");
  assert(pending_[it->first.owner] > 0);
  --pending_[it->first.owner];
  hints_.erase(it);
}

void HintedHandoff::recovered(const NodeView& view, const std::vector<std::string>& hint_keys) {
  const auto& members = view.ring.members();  // in joining order, not sorted: a joiner may sort first
  for (const auto& bytes : hint_keys) {
    auto address = decode_hint_key(bytes);
    auto m = address.is_ok() ? std::find(members.begin(), members.end(), address->owner) : members.end();
    auto owner = static_cast<MemberIndex>(m - members.begin());
    if (m == members.end() || owner == view.self) {
      ++counters_.hints_unreadable;
      continue;
    }
    if (hints_.emplace(HintKey{owner, std::move(address->key)}, Hint{}).second) {
      ++pending_[owner];
      ++counters_.hints_recovered;
    }
  }
  next_scan_ms_ = 0;
}

bool HintedHandoff::holds(std::string_view key) const {
  for (MemberIndex owner = 0; owner < pending_.size(); ++owner) {
    if (pending_[owner] != 0 && hints_.contains(HintKey{owner, std::string(key)})) return true;
  }
  return false;
}

std::vector<MemberIndex> HintedHandoff::in_flight() const {
  std::vector<MemberIndex> owners;
  for (const auto& [id, hk] : deliveries_) owners.push_back(hk.owner);
  return owners;
}

}  // namespace md::core
