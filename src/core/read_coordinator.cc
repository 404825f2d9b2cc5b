#include "core/read_coordinator.h"

#include <algorithm>
#include <cassert>

#include "core/context_token.h"
#include "core/dvv_set.h"
#include "core/object_codec.h"

namespace md::core {
namespace {

template <typename Slots, typename Slot>
uint32_t count(const Slots& slots, Slot slot) {
  return static_cast<uint32_t>(std::count(slots.begin(), slots.end(), slot));
}

}  // namespace

void ReadCoordinator::start(Outbox& out, uint64_t now_ms, const Origin& origin, std::string key, uint32_t partition,
                            std::vector<MemberIndex> replicas, uint32_t r, bool inspect) {
  const RequestId id = out.next_id();
  auto& read = reads_[id];
  read.origin = origin;
  read.key = std::move(key);
  read.partition = partition;
  read.slots.assign(replicas.size(), Slot::waiting);
  read.objects.resize(replicas.size());
  read.replicas = std::move(replicas);
  read.r = r;
  read.inspect = inspect;
  read.deadline_ms = now_ms + options_.request_timeout_ms;
  for (size_t i = 0; i < read.replicas.size(); ++i) {
    if (read.replicas[i] == self_) {
      local_reads_.emplace(out.storage(Part::reads, partition, read.key, std::nullopt), std::pair{id, i});
    } else {
      out.send(read.replicas[i], ReplicaRead{id, read.key});
    }
  }
}

void ReadCoordinator::on_reply(Outbox& out, uint64_t now_ms, MemberIndex from, ReplicaReadReply reply) {
  auto it = reads_.find(reply.id);
  if (it == reads_.end()) return;
  // replied() may complete the read and erase it, replicas and all: nothing of it is used after
  // the call (ASan found a loop that went on over the freed list).
  const auto& replicas = it->second.replicas;
  auto at = std::find(replicas.begin(), replicas.end(), from);
  if (at == replicas.end()) return;
  replied(out, now_ms, reply.id, static_cast<size_t>(at - replicas.begin()), reply.ok ? Slot::replied : Slot::error,
          std::move(reply.object));
}

void ReadCoordinator::on_storage_done(Outbox& out, uint64_t now_ms, StorageDone done) {
  auto it = local_reads_.find(done.op);
  if (it == local_reads_.end()) return;  // a repair's merge
  auto [id, slot] = it->second;
  local_reads_.erase(it);
  replied(out, now_ms, id, slot, done.status.is_ok() ? Slot::replied : Slot::error, std::move(done.object));
}

void ReadCoordinator::on_peer_down(Outbox& out, uint64_t now_ms, MemberIndex peer) {
  std::vector<RequestId> reading;
  for (const auto& [id, read] : reads_) {
    if (std::find(read.replicas.begin(), read.replicas.end(), peer) != read.replicas.end()) reading.push_back(id);
  }
  for (RequestId id : reading) {
    auto it = reads_.find(id);
    if (it == reads_.end()) continue;
    const auto& replicas = it->second.replicas;
    auto at = std::find(replicas.begin(), replicas.end(), peer);
    replied(out, now_ms, id, static_cast<size_t>(at - replicas.begin()), Slot::failed, std::nullopt);
  }
}

void ReadCoordinator::on_tick(Outbox& out, uint64_t now_ms) {
  std::vector<RequestId> expired;
  for (const auto& [id, read] : reads_) {
    if (read.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    auto& read = reads_.at(id);
    // Replicas that never answered count as failed: unanswered, the read had fewer than R replies.
    // check() then repairs what did answer.
    std::replace(read.slots.begin(), read.slots.end(), Slot::waiting, Slot::failed);
    if (!read.answered && !read.inspect) {
      out.fail(read.origin, Outcome::unavailable,
               "read quorum not reached before the deadline: too few replicas answered in time",
               count(read.slots, Slot::replied), read.r);
      read.answered = true;
    }
    check(out, now_ms, id);
  }
}

void ReadCoordinator::replied(Outbox& out, uint64_t now_ms, RequestId id, size_t slot, Slot outcome,
                              std::optional<std::string> object) {
  auto it = reads_.find(id);
  if (it == reads_.end()) return;
  auto& read = it->second;
  assert(slot < read.slots.size() && "a reply comes from one of the read's replicas");
  if (read.slots[slot] != Slot::waiting) return;
  if (outcome == Slot::replied && object && !decode_object(*object).is_ok()) {
    ++counters_.bad_replica_objects;
    outcome = Slot::error;
  }
  read.slots[slot] = outcome;
  if (outcome == Slot::replied) read.arrivals.push_back(slot);
  read.objects[slot] = std::move(object);
  check(out, now_ms, id);
}

// The first `first` replies to arrive, merged: the objects were checked when they arrived.
DvvSet ReadCoordinator::merge_replies(const PendingRead& read, size_t first) {
  DvvSet merged;
  for (size_t i = 0; i < read.arrivals.size() && i < first; ++i) {
    if (const auto& object = read.objects[read.arrivals[i]]) merged.merge(*decode_object(*object));
  }
  return merged;
}

ClientResponse ReadCoordinator::read_answer(const DvvSet& merged, uint32_t replies) {
  ClientResponse response;
  response.acknowledged = replies;
  if (!merged.context().empty()) response.context_token = encode_context_token(merged.context());
  if (merged.deleted()) {
    response.outcome = Outcome::not_found;
  } else {
    for (const auto& s : merged.siblings()) {
      if (!s.tombstone) response.siblings.push_back(s);
    }
  }
  return response;
}

void ReadCoordinator::answer_inspect(Outbox& out, const PendingRead& read) {
  const auto replies = static_cast<uint32_t>(std::min<size_t>(read.arrivals.size(), read.r));
  ClientResponse response = read_answer(merge_replies(read, read.r), replies);
  response.outcome = Outcome::ok;  // the inspect succeeded; the read's own answer is told by its fields
  response.required = read.r;
  for (size_t i = 0; i < read.slots.size(); ++i) {
    ReplicaCopy copy{read.replicas[i], ReplicaCopy::State::unreachable, {}};
    if (read.slots[i] == Slot::error) copy.state = ReplicaCopy::State::error;
    if (read.slots[i] == Slot::replied) {
      copy.state = read.objects[i] ? ReplicaCopy::State::copy : ReplicaCopy::State::missing;
      if (read.objects[i]) copy.object = *read.objects[i];
    }
    response.replicas.push_back(std::move(copy));
  }
  out.answer(read.origin, std::move(response));
}

void ReadCoordinator::check(Outbox& out, uint64_t now_ms, RequestId id) {
  auto& read = reads_.at(id);
  const uint32_t replied = count(read.slots, Slot::replied);
  const uint32_t waiting = count(read.slots, Slot::waiting);
  if (read.inspect) {
    if (waiting == 0) {
      answer_inspect(out, read);
      reads_.erase(id);
    }
    return;
  }
  if (!read.answered && replied >= read.r) {
    out.answer(read.origin, read_answer(merge_replies(read), replied));
    read.answered = true;
    read.deadline_ms = now_ms + options_.read_repair_window_ms;
  } else if (!read.answered && replied + waiting < read.r) {
    out.fail(read.origin, Outcome::unavailable, "read quorum not reached: too many replicas are unreachable", replied,
             read.r);
    read.answered = true;
  }
  if (waiting == 0) {
    repair(out, read);
    reads_.erase(id);
  }
}

void ReadCoordinator::repair(Outbox& out, const PendingRead& read) {
  DvvSet merged = merge_replies(read);
  if (merged.empty()) return;
  std::string bytes = encode_object(merged);
  for (size_t i = 0; i < read.slots.size(); ++i) {
    if (read.slots[i] != Slot::replied || read.objects[i] == bytes) continue;
    ++counters_.read_repairs;
    if (read.replicas[i] == self_) {
      out.storage(Part::reads, read.partition, read.key, MergeWrite{bytes});
    } else {
      out.send(read.replicas[i], ReplicaWrite{0, read.key, bytes, false});
    }
  }
}

}  // namespace md::core
