#include "core/write_coordinator.h"

#include <algorithm>
#include <cassert>

#include "core/context_token.h"
#include "core/object_codec.h"

namespace md::core {
namespace {

Outcome outcome_of(const Status& status) {
  switch (status.code()) {
    case Code::conflict: return Outcome::too_many_siblings;
    case Code::invalid_argument: return Outcome::bad_request;
    case Code::unavailable: return Outcome::unavailable;
    default: return Outcome::internal_error;
  }
}

}  // namespace

void WriteCoordinator::start(Outbox& out, const NodeView& view, uint64_t now_ms, const Origin& origin,
                             WriteRequest request) {
  const RequestId id = out.next_id();
  auto& write = writes_[id];
  write.origin = origin;
  write.key = request.key;
  write.partition = request.partition;
  write.owners = std::move(request.owners);
  write.w = request.w;
  write.sloppy = request.sloppy;
  write.deadline_ms = now_ms + options_.request_timeout_ms;
  // Replicas known to be down get a stand-in now; everything is sent once the local store made the object.
  for (MemberIndex owner : write.owners) {
    if (owner == view.self || view.peers.up(owner)) {
      write.targets.push_back(Target{owner, owner, true, Slot::waiting});
    } else if (auto target = stand_in(view, write, owner)) {
      write.targets.push_back(*target);
    }
  }
  for (MemberIndex m : request.incoming) {
    if (view.peers.up(m)) {
      write.targets.push_back(Target{m, m, false, Slot::waiting});
    } else if (auto target = stand_in(view, write, m)) {
      write.targets.push_back(*target);
    }
  }
  auto [busy, idle] = busy_keys_.try_emplace(write.key);
  if (!idle) {
    write.update = std::move(request.update);
    busy->second.push_back(id);
    return;
  }
  store_locally(out, id, write, std::move(request.update));
}

void WriteCoordinator::store_locally(Outbox& out, RequestId id, const PendingWrite& write, CoordinatorWrite update) {
  local_writes_.emplace(out.storage(Part::writes, write.partition, write.key, std::move(update)),
                        LocalWrite{id, write.partition, write.key, {}});
}

// The key's local step is done (and its object, if it went out, is stored here): the next write
// waiting for it takes its step.
void WriteCoordinator::start_next(Outbox& out, const std::string& key) {
  auto busy = busy_keys_.find(key);
  assert(busy != busy_keys_.end());
  while (!busy->second.empty()) {
    const RequestId next = busy->second.front();
    busy->second.pop_front();
    auto it = writes_.find(next);
    if (it == writes_.end()) continue;  // answered at its deadline before its turn: nothing of it was made
    CoordinatorWrite update = std::move(*it->second.update);
    it->second.update.reset();
    return store_locally(out, next, it->second, std::move(update));
  }
  busy_keys_.erase(busy);
}

void WriteCoordinator::on_storage_applied(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId op,
                                          std::string_view object) {
  auto local = local_writes_.find(op);
  if (local == local_writes_.end()) return;
  auto it = writes_.find(local->second.write);
  if (it == writes_.end() || !it->second.object.empty()) return;  // answered at its deadline, or sent
  auto decoded = decode_object(object);
  assert(decoded.is_ok());  // the step just encoded it
  local->second.sent = object;
  send_out(out, view, handoff, it->first, it->second, std::string(object), decoded->context());
  check(out, it->first);
}

void WriteCoordinator::on_storage_done(Outbox& out, const NodeView& view, HintedHandoff& handoff,
                                       const StorageDone& done) {
  auto it = local_writes_.find(done.op);
  if (it == local_writes_.end()) return;
  LocalWrite local = std::move(it->second);
  local_writes_.erase(it);
  const bool stored = done.status.is_ok() && done.object;
  if (local.write != 0) local_done(out, view, handoff, local.write, stored, done);
  if (!stored && !local.sent.empty()) {  // went out, not stored here: stored again first (on_tick)
    restores_[local.key] = Restore{local.partition, std::move(local.sent), false};
  } else if (!stored && local.write == 0) {
    restores_.at(local.key).in_flight = false;  // a restore that failed: again at the next tick
  } else {
    restores_.erase(local.key);
    start_next(out, local.key);
  }
}

void WriteCoordinator::local_done(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id,
                                  bool stored, const StorageDone& done) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // answered at its deadline
  auto& write = it->second;
  if (!stored && write.object.empty()) {  // nothing went out: the write failed as a whole
    Origin origin = write.origin;
    writes_.erase(it);
    return out.fail(origin, outcome_of(done.status), done.status.message());
  }
  if (write.object.empty()) {
    auto object = decode_object(*done.object);
    assert(object.is_ok());  // we just encoded it
    send_out(out, view, handoff, id, write, *done.object, object->context());
  }
  // The own copy counts now; if it failed, the write went out and the others may still reach W.
  auto own = std::find_if(write.targets.begin(), write.targets.end(), [&](const Target& t) {
    return t.node == view.self && t.owner == view.self && t.slot == Slot::waiting;
  });
  if (own == write.targets.end()) {
    check(out, id);
  } else {
    settle(out, view, handoff, id, write, *own, stored);
  }
}

void WriteCoordinator::send_out(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id,
                                PendingWrite& write, std::string object, const VersionVector& context) {
  write.context_token = encode_context_token(context);
  write.object = std::move(object);
  for (size_t i = 0; i < write.targets.size(); ++i) dispatch(out, view, handoff, id, write, i);
}

// Sends the object to one target, or stores it here: the own replica is the local storage step's
// (on_storage_done counts it), a hint for another replica goes to this node's hint store.
void WriteCoordinator::dispatch(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id,
                                PendingWrite& write, size_t target) {
  auto& t = write.targets[target];
  if (t.slot != Slot::waiting || (t.node == view.self && t.owner == view.self)) return;
  if (t.node == t.owner) {
    out.send(t.node, ReplicaWrite{id, write.key, write.object, true});
  } else if (t.node == view.self) {
    if (!handoff.store(out, view, t.owner, write.key, write.object, HintAck{view.self, id})) t.slot = Slot::failed;
  } else {
    out.send(t.node, HintedWrite{id, t.owner, write.key, write.object});
  }
}

// Who keeps a hint for `owner`, a replica that is down or failed (write_coordinator.h).
std::optional<WriteCoordinator::Target> WriteCoordinator::stand_in(const NodeView& view, const PendingWrite& write,
                                                                   MemberIndex owner) const {
  auto tried = [&](MemberIndex node) {
    return std::any_of(write.targets.begin(), write.targets.end(),
                       [&](const Target& t) { return t.node == node && t.owner == owner; });
  };
  const bool replica = std::find(write.owners.begin(), write.owners.end(), owner) != write.owners.end();
  if (write.sloppy && !write.answered && replica) {  // an incoming replica's write counts nowhere: no fallback
    auto holds_a_copy = [&](MemberIndex node) {  // a replica of this write, or a hint of it
      return std::find(write.owners.begin(), write.owners.end(), node) != write.owners.end() ||
             std::any_of(write.targets.begin(), write.targets.end(), [&](const Target& t) { return t.node == node; });
    };
    auto walk = view.ring.walk(write.partition);
    for (size_t step = write.owners.size(); step < walk.size(); ++step) {
      MemberIndex m = walk[step];
      if (!view.peers.up(m) || holds_a_copy(m)) continue;
      return Target{m, owner, true, Slot::waiting};
    }
  }
  if (tried(view.self)) return std::nullopt;
  return Target{view.self, owner, options_.buggy_colocated_hints && write.sloppy && replica, Slot::waiting};
}

void WriteCoordinator::on_stored(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id,
                                 MemberIndex node, MemberIndex owner, bool ok) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // settled already; a late acknowledgement changes nothing
  auto& write = it->second;
  auto target = std::find_if(write.targets.begin(), write.targets.end(), [&](const Target& t) {
    return t.node == node && t.owner == owner && t.slot == Slot::waiting;
  });
  if (target == write.targets.end()) return;
  assert((node != view.self || owner != view.self) && "the own replica is counted when the local store completes");
  settle(out, view, handoff, id, write, *target, ok);
}

// `target` stored the write, or failed to: a failed replica gets a stand-in if none covers it yet.
void WriteCoordinator::settle(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id,
                              PendingWrite& write, Target& target, bool ok) {
  target.slot = ok ? Slot::replied : Slot::failed;
  const MemberIndex owner = target.owner;  // `target` may move when a stand-in joins
  bool covered = std::any_of(write.targets.begin(), write.targets.end(),
                             [&](const Target& t) { return t.owner == owner && t.slot != Slot::failed; });
  if (!covered) {
    if (auto next = stand_in(view, write, owner)) {
      write.targets.push_back(*next);
      if (!write.object.empty()) dispatch(out, view, handoff, id, write, write.targets.size() - 1);
    }
  }
  check(out, id);
}

void WriteCoordinator::check(Outbox& out, RequestId id) {
  auto& write = writes_.at(id);
  uint32_t acks = 0, waiting = 0;
  bool settled = true;
  for (const auto& t : write.targets) {
    if (t.counts) {
      acks += t.slot == Slot::replied;
      waiting += t.slot == Slot::waiting;
    }
    settled = settled && t.slot != Slot::waiting;
  }
  assert(write.w >= 1 && acks <= write.targets.size());
  if (!write.answered && acks >= write.w) {
    ClientResponse response;
    response.acknowledged = acks;
    response.context_token = std::move(write.context_token);
    out.answer(write.origin, std::move(response));
    write.answered = true;
  } else if (!write.answered && acks + waiting < write.w && waiting == 0) {
    // W is out of reach. The answer waits for every replica still writing, so that `acknowledged`
    // says how many hold the write: a failed write is not undone, and the replicas it missed get
    // it later from this node's hints, so it may still be read.
    out.fail(write.origin, Outcome::unavailable,
             std::string("write quorum not reached: too many replicas are unreachable") +
                 (write.sloppy ? "" : " (strict quorum: no fallbacks)") +
                 "; the write is indeterminate: it stays on the replicas that acknowledged it and reaches the "
                 "others later",
             acks, write.w);
    write.answered = true;
  }
  if (write.answered && settled) writes_.erase(id);
}

void WriteCoordinator::on_peer_down(Outbox& out, const NodeView& view, HintedHandoff& handoff, MemberIndex peer) {
  // Ids are collected first because answering erases writes.
  std::vector<std::pair<RequestId, MemberIndex>> targets;  // (write, owner) the peer was to store
  for (const auto& [id, write] : writes_) {
    for (const auto& t : write.targets) {
      if (t.node == peer && t.slot == Slot::waiting) targets.emplace_back(id, t.owner);
    }
  }
  for (auto [id, owner] : targets) on_stored(out, view, handoff, id, peer, owner, false);
}

void WriteCoordinator::on_tick(Outbox& out, const NodeView& view, HintedHandoff& handoff, uint64_t now_ms) {
  for (auto& [key, restore] : restores_) {
    if (restore.in_flight) continue;
    restore.in_flight = true;
    local_writes_.emplace(out.storage(Part::writes, restore.partition, key, MergeWrite{restore.object}),
                          LocalWrite{0, restore.partition, key, {}});
  }
  std::vector<RequestId> expired;
  for (const auto& [id, write] : writes_) {
    if (write.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) expire(out, view, handoff, id);
}

// At the deadline: answers 503 if still unanswered, and keeps the write as a hint here for every
// replica that neither acknowledged it nor has a hint of it on the way, so that it gets it later.
void WriteCoordinator::expire(Outbox& out, const NodeView& view, HintedHandoff& handoff, RequestId id) {
  auto& write = writes_.at(id);
  if (!write.answered) {
    auto acks = static_cast<uint32_t>(std::count_if(write.targets.begin(), write.targets.end(), [](const Target& t) {
      return t.counts && t.slot == Slot::replied;
    }));
    out.fail(write.origin, Outcome::unavailable,
             "write quorum not reached before the deadline; the write may still be applied on some replicas", acks,
             write.w);
  }
  for (MemberIndex owner : write.owners) {
    if (write.object.empty()) break;  // not decided yet: nothing to keep (the store's completion finds no write)
    if (owner == view.self) continue;  // its own copy failed: a hint here would be for itself (anti-entropy repairs it)
    bool on_its_way = std::any_of(write.targets.begin(), write.targets.end(), [&](const Target& t) {
      return t.owner == owner && (t.slot == Slot::replied || (t.slot == Slot::waiting && t.node == view.self));
    });
    if (!on_its_way) (void)handoff.store(out, view, owner, write.key, write.object, HintAck{});
  }
  writes_.erase(id);
}

}  // namespace md::core
