// Hinted handoff: the hint store of one node and the delivery of its hints (node.h says what it
// promises). Every storage operation on a hint goes through advance_hint, one at a time per hint,
// so a removal never overtakes a merge whatever order the runtime's storage runs operations in.
#include <algorithm>
#include <cassert>

#include "core/node.h"
#include "core/object_codec.h"

namespace md::core {

bool Node::store_hint(MemberIndex owner, const std::string& key, const std::string& object, HintAck ack) {
  HintKey hk{owner, key};
  auto it = hints_.find(hk);
  if (it == hints_.end()) {
    if (hints_.size() >= options_.hints_max) {
      ++counters_.hints_refused;
      return false;
    }
    it = hints_.emplace(hk, Hint{}).first;
    ++pending_hints_[owner];
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
  advance_hint(hk);
  return true;
}

// Starts the storage operation a hint waits for, unless one is in flight: the merge of the
// hinted writes that arrived, else the removal that the owner's acknowledgement allowed.
void Node::advance_hint(const HintKey& hk) {
  auto& hint = hints_.at(hk);
  if (hint.busy) return;
  if (!hint.queued.empty()) {
    hint.busy = true;
    hint.acks = std::exchange(hint.queued_acks, {});
    storage(next_id_++, kHintPartition, hint_storage_key(hk), MergeWrite{std::exchange(hint.queued, {})},
            AfterHintMerge{hk});
  } else if (hint.stage == Hint::Stage::removing) {
    hint.busy = true;
    storage(next_id_++, kHintPartition, hint_storage_key(hk), RemoveKey{}, AfterHintRemove{hk});
  }
}

void Node::ack_hint(const HintAck& ack, MemberIndex owner, bool ok) {
  if (ack.id == 0) return;
  if (ack.to == self_) return target_done(ack.id, self_, owner, ok);
  send(ack.to, HintedWriteReply{ack.id, owner, ok});
}

void Node::hint_merged(const HintKey& hk, bool ok) {
  auto& hint = hints_.at(hk);
  hint.busy = false;
  auto acks = std::exchange(hint.acks, {});
  advance_hint(hk);
  // A failed merge leaves the index entry; its delivery finds what the engine has, or nothing.
  for (const auto& ack : acks) ack_hint(ack, hk.owner, ok);
}

void Node::hint_read(uint64_t now_ms, const HintKey& hk, StorageDone& done) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && it->second.busy && "a hint stays while a storage operation on it is in flight");
  auto& hint = it->second;
  hint.busy = false;
  if (!done.status.is_ok() || !peer_up(hk.owner)) return handoff_failed(now_ms, hk);
  if (!done.object) {  // its merge failed: nothing to deliver
    handoffs_.erase(hint.delivery);
    hint.stage = Hint::Stage::idle;
    if (hint.queued.empty()) return erase_hint(it);
    return advance_hint(hk);
  }
  // The owner merges it into its data like any replica write, and acknowledges once stored.
  hint.stage = Hint::Stage::delivering;
  hint.deadline_ms = now_ms + options_.request_timeout_ms;
  send(hk.owner, ReplicaWrite{hint.delivery, hk.key, std::move(*done.object), true});
  advance_hint(hk);
}

void Node::handoff_replied(uint64_t now_ms, RequestId id, MemberIndex from, bool ok) {
  auto d = handoffs_.find(id);
  assert(d != handoffs_.end() && "the caller matched the reply to a delivery in flight");
  HintKey hk = d->second;
  auto& hint = hints_.at(hk);
  if (from != hk.owner || hint.stage != Hint::Stage::delivering) return;
  if (!ok) return handoff_failed(now_ms, hk);
  handoffs_.erase(d);
  hint.failures = 0;
  if (hint.generation != hint.delivered_generation) {
    // A newer write merged into the hint after it was read: the owner lacks that one yet.
    hint.stage = Hint::Stage::idle;
    hint.due_ms = now_ms;
    next_handoff_scan_ms_ = now_ms;
    return;
  }
  hint.stage = Hint::Stage::removing;
  advance_hint(hk);
}

void Node::hint_removed(const HintKey& hk, bool ok) {
  auto it = hints_.find(hk);
  assert(it != hints_.end() && it->second.busy && "a hint stays while it is removed");
  auto& hint = it->second;
  hint.busy = false;
  hint.stage = Hint::Stage::idle;  // if the removal failed, the next delivery repeats (merges are idempotent)
  if (ok) ++counters_.hints_delivered;
  if (ok && hint.queued.empty()) return erase_hint(it);
  advance_hint(hk);  // hinted writes that arrived during the removal start a new hint
}

void Node::handoff_failed(uint64_t now_ms, const HintKey& hk) {
  auto& hint = hints_.at(hk);
  handoffs_.erase(hint.delivery);
  ++counters_.handoff_failures;
  hint.stage = Hint::Stage::idle;
  ++hint.failures;
  uint64_t backoff = options_.handoff_retry_ms << std::min<uint32_t>(hint.failures - 1, 16);
  hint.due_ms = now_ms + std::min(backoff, options_.handoff_retry_max_ms);
  advance_hint(hk);
}

// Fails deliveries past their deadline, then starts due ones to reachable owners, up to
// handoffs_in_flight_max at once. The scan runs at most every handoff_retry_ms (or at once after
// a peer came up) and skips the hints of unreachable owners in one step each.
void Node::handoff_tick(uint64_t now_ms) {
  std::vector<HintKey> late;
  for (const auto& [id, hk] : handoffs_) {
    const auto& hint = hints_.at(hk);
    if (hint.stage == Hint::Stage::delivering && hint.deadline_ms <= now_ms) late.push_back(hk);
  }
  for (const auto& hk : late) handoff_failed(now_ms, hk);

  if (now_ms < next_handoff_scan_ms_) return;
  next_handoff_scan_ms_ = now_ms + options_.handoff_retry_ms;
  auto it = hints_.begin();
  while (it != hints_.end() && handoffs_.size() < options_.handoffs_in_flight_max) {
    MemberIndex owner = it->first.owner;
    if (!peer_up(owner)) {
      it = hints_.lower_bound(HintKey{owner + 1, {}});
      continue;
    }
    auto& hint = it->second;
    if (hint.stage == Hint::Stage::idle && !hint.busy && hint.due_ms <= now_ms) {
      // Read what the engine holds now: every merge started before has landed (one operation at
      // a time), so the acknowledgement of this delivery covers generation `generation`.
      hint.stage = Hint::Stage::reading;
      hint.busy = true;
      hint.delivered_generation = hint.generation;
      hint.delivery = next_id_++;
      hint.deadline_ms = UINT64_MAX;
      handoffs_.emplace(hint.delivery, it->first);
      storage(next_id_++, kHintPartition, hint_storage_key(it->first), std::nullopt, AfterHintRead{it->first});
    }
    ++it;
  }
}

void Node::erase_hint(std::map<HintKey, Hint>::iterator it) {
  --pending_hints_[it->first.owner];
  hints_.erase(it);
}

void Node::on_hints_recovered(const std::vector<std::string>& hint_keys) {
  const auto& members = ring_.members();  // in joining order, not sorted: a joiner may sort first
  for (const auto& bytes : hint_keys) {
    auto address = decode_hint_key(bytes);
    auto m = address.is_ok() ? std::find(members.begin(), members.end(), address->owner) : members.end();
    auto owner = static_cast<MemberIndex>(m - members.begin());
    if (m == members.end() || owner == self_) {
      ++counters_.hints_unreadable;
      continue;
    }
    if (hints_.emplace(HintKey{owner, std::move(address->key)}, Hint{}).second) {
      ++pending_hints_[owner];
      ++counters_.hints_recovered;
    }
  }
  next_handoff_scan_ms_ = 0;
}

std::vector<MemberIndex> Node::handoffs_in_flight() const {
  std::vector<MemberIndex> owners;
  for (const auto& [id, hk] : handoffs_) owners.push_back(hk.owner);
  return owners;
}

}  // namespace md::core
