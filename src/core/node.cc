#include "core/node.h"

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

Node::Node(Ring ring, MemberIndex self, std::string node_id, NodeOptions options, uint64_t request_id_base)
    : ring_(std::move(ring)),
      self_(self),
      node_id_(std::move(node_id)),
      options_(options),
      reachable_(ring_.members().size(), true),
      detectors_(ring_.members().size(), PhiAccrualDetector(options_.failure_detector)),
      suspected_(ring_.members().size(), false),
      peer_ids_(ring_.members().size()),
      next_id_(request_id_base | 1),  // never 0: read repairs send id 0, which nothing waits for
      anti_entropy_(ring_, self_, options_.defaults.n, options_.anti_entropy, effects_, next_id_) {
  assert(self_ < ring_.members().size());
  peer_ids_[self_] = node_id_;
}

std::vector<Effect> Node::take_effects() { return std::exchange(effects_, {}); }

void Node::on_client_request(uint64_t now_ms, RequestId client, ClientRequest request) {
  ++counters_.client_requests;
  start(now_ms, Origin{false, 0, client}, std::move(request), false);
}

void Node::start(uint64_t now_ms, Origin origin, ClientRequest request, bool forwarded) {
  if (request.key.empty()) return fail(origin, Outcome::bad_request, "the key must not be empty");
  if (pending_requests() >= options_.pending_requests_max) {
    return fail(origin, Outcome::unavailable, "too many requests in flight at this node; retry later");
  }
  auto nodes = static_cast<uint32_t>(ring_.members().size());
  auto quorum = resolve_quorum(request.n, request.r, request.w, options_.defaults, nodes);
  if (!quorum.is_ok()) return fail(origin, Outcome::bad_request, quorum.status().message());
  std::optional<VersionVector> context;
  if (request.context_token && !request.context_token->empty() && request.op != Op::get) {
    auto decoded = decode_context_token(*request.context_token);
    if (!decoded.is_ok()) return fail(origin, Outcome::bad_request, decoded.status().message());
    context = std::move(decoded).value();
  }
  if (request.op == Op::put && !context) ++counters_.blind_writes;

  uint32_t partition = ring_.partition_of_key(request.key);
  auto pref = ring_.preference_list(partition, quorum->n);
  std::vector<MemberIndex> replicas(pref.begin(), pref.end());
  bool is_replica = std::find(replicas.begin(), replicas.end(), self_) != replicas.end();
  // A forwarded request is coordinated here even if our rings disagree, so it can never loop.
  if (!is_replica && !forwarded) {
    request.n = quorum->n;
    request.r = quorum->r;
    request.w = quorum->w;
    return start_forward(now_ms, origin, std::move(request), std::move(replicas));
  }
  if (request.op == Op::get) return start_read(now_ms, origin, request, *quorum, partition, std::move(replicas));
  start_write(now_ms, origin, request, *quorum, std::move(context), partition, std::move(replicas));
}

// ---- forwarding -------------------------------------------------------------------------------

void Node::start_forward(uint64_t now_ms, Origin origin, ClientRequest request, std::vector<MemberIndex> replicas) {
  ++counters_.forwarded;
  std::stable_partition(replicas.begin(), replicas.end(), [&](MemberIndex m) { return peer_up(m); });
  RequestId id = next_id_++;
  // Half a deadline more than the coordinator's own, so its answer (a 503 with counts) wins the race.
  auto& forward = forwards_[id] = PendingForward{origin, std::move(request), std::move(replicas), 0,
                                                 now_ms + options_.request_timeout_ms * 3 / 2};
  send_forward(id, forward);
}

void Node::send_forward(RequestId id, PendingForward& forward) {
  if (forward.tried == forward.candidates.size()) {
    Origin origin = forward.origin;
    forwards_.erase(id);
    return fail(origin, Outcome::unavailable, "no replica of the key could be reached to coordinate the request");
  }
  send(forward.candidates[forward.tried++], Forward{id, forward.request});
}

// ---- writes -----------------------------------------------------------------------------------

void Node::start_write(uint64_t now_ms, Origin origin, ClientRequest& request, const Quorum& q,
                       std::optional<VersionVector> context, uint32_t partition, std::vector<MemberIndex> replicas) {
  RequestId id = next_id_++;
  auto& write = writes_[id];
  write.origin = origin;
  write.key = request.key;
  write.slots.assign(replicas.size(), Slot::waiting);
  write.replicas = std::move(replicas);
  write.w = q.w;
  write.deadline_ms = now_ms + options_.request_timeout_ms;
  CoordinatorWrite update{std::move(context), request.op == Op::del, std::move(request.value)};
  storage(next_id_++, partition, std::move(request.key), std::move(update), AfterLocalWrite{id});
}

void Node::local_write_done(RequestId id, const StorageDone& done) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // already answered (deadline)
  auto& write = it->second;
  if (!done.status.is_ok() || !done.object) {
    Origin origin = write.origin;
    writes_.erase(it);
    return fail(origin, outcome_of(done.status), done.status.message());
  }
  auto object = decode_object(*done.object);
  assert(object.is_ok());  // we just encoded it
  write.context_token = encode_context_token(object->context());
  for (size_t i = 0; i < write.replicas.size(); ++i) {
    if (write.replicas[i] == self_) {
      write.slots[i] = Slot::replied;
    } else {
      send(write.replicas[i], ReplicaWrite{id, write.key, *done.object, true});
    }
  }
  check_write(id);
}

void Node::write_replied(RequestId id, MemberIndex from, bool ok) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // answered already; a late acknowledgement changes nothing
  auto& write = it->second;
  for (size_t i = 0; i < write.replicas.size(); ++i) {
    if (write.replicas[i] == from && write.slots[i] == Slot::waiting) write.slots[i] = ok ? Slot::replied : Slot::failed;
  }
  check_write(id);
}

void Node::check_write(RequestId id) {
  auto& write = writes_.at(id);
  auto acks = static_cast<uint32_t>(std::count(write.slots.begin(), write.slots.end(), Slot::replied));
  auto waiting = static_cast<uint32_t>(std::count(write.slots.begin(), write.slots.end(), Slot::waiting));
  if (acks >= write.w) {
    ClientResponse response;
    response.acknowledged = acks;
    response.context_token = std::move(write.context_token);
    respond(write.origin, std::move(response));
    writes_.erase(id);
  } else if (acks + waiting < write.w) {
    Origin origin = write.origin;
    uint32_t w = write.w;
    writes_.erase(id);
    fail(origin, Outcome::unavailable, "write quorum not reached: too many replicas are unreachable", acks, w);
  }
}

// ---- reads ------------------------------------------------------------------------------------

void Node::start_read(uint64_t now_ms, Origin origin, ClientRequest& request, const Quorum& q, uint32_t partition,
                      std::vector<MemberIndex> replicas) {
  RequestId id = next_id_++;
  auto& read = reads_[id];
  read.origin = origin;
  read.key = std::move(request.key);
  read.partition = partition;
  read.slots.assign(replicas.size(), Slot::waiting);
  read.objects.resize(replicas.size());
  read.replicas = std::move(replicas);
  read.r = q.r;
  read.deadline_ms = now_ms + options_.request_timeout_ms;
  for (size_t i = 0; i < read.replicas.size(); ++i) {
    if (read.replicas[i] == self_) {
      storage(next_id_++, partition, read.key, std::nullopt, AfterLocalRead{id, i});
    } else {
      send(read.replicas[i], ReplicaRead{id, read.key});
    }
  }
}

void Node::read_replied(uint64_t now_ms, RequestId id, size_t slot, bool ok, std::optional<std::string> object) {
  auto it = reads_.find(id);
  if (it == reads_.end() || it->second.slots[slot] != Slot::waiting) return;
  auto& read = it->second;
  if (ok && object && !decode_object(*object).is_ok()) {
    ++counters_.bad_replica_objects;
    ok = false;
  }
  read.slots[slot] = ok ? Slot::replied : Slot::failed;
  read.objects[slot] = std::move(object);
  check_read(now_ms, id);
}

void Node::check_read(uint64_t now_ms, RequestId id) {
  auto& read = reads_.at(id);
  auto replied = static_cast<uint32_t>(std::count(read.slots.begin(), read.slots.end(), Slot::replied));
  auto waiting = static_cast<uint32_t>(std::count(read.slots.begin(), read.slots.end(), Slot::waiting));
  if (!read.answered && replied >= read.r) {
    DvvSet merged = merge_replies(read);
    ClientResponse response;
    response.acknowledged = replied;
    if (!merged.context().empty()) response.context_token = encode_context_token(merged.context());
    if (merged.deleted()) {
      response.outcome = Outcome::not_found;
    } else {
      for (const auto& s : merged.siblings()) {
        if (!s.tombstone) response.siblings.push_back(s);
      }
    }
    respond(read.origin, std::move(response));
    read.answered = true;
    read.deadline_ms = now_ms + options_.read_repair_window_ms;
  } else if (!read.answered && replied + waiting < read.r) {
    fail(read.origin, Outcome::unavailable, "read quorum not reached: too many replicas are unreachable", replied,
         read.r);
    read.answered = true;
  }
  if (waiting == 0) {
    repair(read);
    reads_.erase(id);
  }
}

DvvSet Node::merge_replies(const PendingRead& read) {
  DvvSet merged;
  for (size_t i = 0; i < read.slots.size(); ++i) {
    if (read.slots[i] == Slot::replied && read.objects[i]) merged.merge(*decode_object(*read.objects[i]));
  }
  return merged;
}

void Node::repair(const PendingRead& read) {
  DvvSet merged = merge_replies(read);
  if (merged.empty()) return;
  std::string bytes = encode_object(merged);
  for (size_t i = 0; i < read.slots.size(); ++i) {
    if (read.slots[i] != Slot::replied || read.objects[i] == bytes) continue;
    ++counters_.read_repairs;
    if (read.replicas[i] == self_) {
      storage(next_id_++, read.partition, read.key, MergeWrite{bytes}, AfterRepair{});
    } else {
      send(read.replicas[i], ReplicaWrite{0, read.key, bytes, false});
    }
  }
}

// ---- events -----------------------------------------------------------------------------------

void Node::on_peer_message(uint64_t now_ms, MemberIndex from, PeerMessage message) {
  if (from >= ring_.members().size() || from == self_) return;
  std::visit(
      [&](auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Hello>) {
          peer_ids_[from] = std::move(m.node_id);
        } else if constexpr (std::is_same_v<M, Heartbeat>) {
          detectors_[from].heartbeat(now_ms);
          suspected_[from] = false;
        } else if constexpr (std::is_same_v<M, AaeTree>) {
          anti_entropy_.on_tree(from, m);
        } else if constexpr (std::is_same_v<M, AaeSegments>) {
          anti_entropy_.on_segments(from, m);
        } else if constexpr (std::is_same_v<M, AaeKeys>) {
          anti_entropy_.on_keys(from, std::move(m));
        } else if constexpr (std::is_same_v<M, AaePull>) {
          anti_entropy_.on_pull(from, std::move(m));
        } else if constexpr (std::is_same_v<M, ReplicaRead>) {
          uint32_t partition = ring_.partition_of_key(m.key);
          storage(next_id_++, partition, std::move(m.key), std::nullopt, AfterServeRead{from, m.id});
        } else if constexpr (std::is_same_v<M, ReplicaWrite>) {
          uint32_t partition = ring_.partition_of_key(m.key);
          storage(next_id_++, partition, std::move(m.key), MergeWrite{std::move(m.object)},
                  AfterServeWrite{from, m.id, m.ack});
        } else if constexpr (std::is_same_v<M, ReplicaReadReply>) {
          auto it = reads_.find(m.id);
          if (it == reads_.end()) return;
          const auto& replicas = it->second.replicas;
          for (size_t i = 0; i < replicas.size(); ++i) {
            if (replicas[i] == from) read_replied(now_ms, m.id, i, m.ok, std::move(m.object));
          }
        } else if constexpr (std::is_same_v<M, ReplicaWriteReply>) {
          write_replied(m.id, from, m.ok);
        } else if constexpr (std::is_same_v<M, Forward>) {
          start(now_ms, Origin{true, from, m.id}, std::move(m.request), true);
        } else if constexpr (std::is_same_v<M, ForwardReply>) {
          auto it = forwards_.find(m.id);
          if (it == forwards_.end()) return;
          Origin origin = it->second.origin;
          forwards_.erase(it);
          respond(origin, std::move(m.response));
        }
      },
      message);
}

void Node::on_storage_done(uint64_t now_ms, StorageDone done) {
  auto it = ops_.find(done.op);
  if (it == ops_.end()) return;
  PendingOp op = std::move(it->second);
  ops_.erase(it);
  if (op.update && done.status.is_ok() && done.object) {
    anti_entropy_.changed(op.partition, op.key, done.previous_hash, object_hash(*done.object));
  }
  Continuation& then = op.then;
  std::visit(
      [&](auto& c) {
        using C = std::decay_t<decltype(c)>;
        if constexpr (std::is_same_v<C, AfterLocalWrite>) {
          local_write_done(c.write, done);
        } else if constexpr (std::is_same_v<C, AfterLocalRead>) {
          read_replied(now_ms, c.read, c.slot, done.status.is_ok(), std::move(done.object));
        } else if constexpr (std::is_same_v<C, AfterServeRead>) {
          ++counters_.replica_reads;
          send(c.peer, ReplicaReadReply{c.id, done.status.is_ok(), std::move(done.object)});
        } else if constexpr (std::is_same_v<C, AfterServeWrite>) {
          if (done.status.is_ok()) ++counters_.replica_writes;
          if (c.ack) send(c.peer, ReplicaWriteReply{c.id, done.status.is_ok()});
        }
      },
      then);
}

void Node::on_scan_done(ScanDone done) { anti_entropy_.on_scan_done(done); }

void Node::load_object(uint32_t partition, std::string_view key, std::string_view object) {
  anti_entropy_.load(partition, key, object);
}

void Node::on_peer_up(MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return;
  reachable_[peer] = true;
  send(peer, Hello{node_id_});
}

void Node::on_peer_down(uint64_t now_ms, MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return;
  reachable_[peer] = false;
  detectors_[peer].restart();  // heartbeats pause while it reconnects; that pause is not learnt
  suspected_[peer] = false;
  anti_entropy_.on_peer_down(peer);
  // Whatever the peer still owed us will not come: count it as failed now rather than at the
  // deadline. Ids are collected first because answering erases requests.
  auto involving = [&](const auto& requests) {
    std::vector<RequestId> ids;
    for (const auto& [id, request] : requests) {
      if (std::find(request.replicas.begin(), request.replicas.end(), peer) != request.replicas.end()) ids.push_back(id);
    }
    return ids;
  };
  for (RequestId id : involving(writes_)) write_replied(id, peer, false);
  for (RequestId id : involving(reads_)) {
    auto it = reads_.find(id);
    if (it == reads_.end()) continue;
    const auto& replicas = it->second.replicas;
    auto at = std::find(replicas.begin(), replicas.end(), peer);
    read_replied(now_ms, id, static_cast<size_t>(at - replicas.begin()), false, std::nullopt);
  }
  // A forward waiting on that peer tries the next replica.
  std::vector<RequestId> forwards;
  for (const auto& [id, forward] : forwards_) {
    if (forward.tried > 0 && forward.candidates[forward.tried - 1] == peer) forwards.push_back(id);
  }
  for (RequestId id : forwards) send_forward(id, forwards_.at(id));
}

PeerStatus Node::peer_status(MemberIndex peer) const {
  if (peer == self_) return PeerStatus::up;
  if (!reachable_[peer]) return PeerStatus::down;
  return suspected_[peer] ? PeerStatus::suspect : PeerStatus::up;
}

double Node::peer_phi(MemberIndex peer, uint64_t now_ms) const {
  return peer == self_ ? 0 : detectors_[peer].phi(now_ms);
}

const char* to_string(PeerStatus status) {
  switch (status) {
    case PeerStatus::up: return "up";
    case PeerStatus::suspect: return "suspect";
    case PeerStatus::down: return "down";
  }
  return "?";
}

void Node::heartbeats(uint64_t now_ms) {
  for (MemberIndex peer = 0; peer < reachable_.size(); ++peer) {
    if (peer == self_ || !reachable_[peer]) continue;
    detectors_[peer].expect(now_ms);
    bool suspect = detectors_[peer].phi(now_ms) >= options_.failure_detector.phi_threshold;
    if (suspect && !suspected_[peer]) ++counters_.suspicions;
    suspected_[peer] = suspect;
  }
  if (now_ms < next_heartbeat_ms_) return;
  next_heartbeat_ms_ = now_ms + options_.failure_detector.heartbeat_interval_ms;
  for (MemberIndex peer = 0; peer < reachable_.size(); ++peer) {
    if (peer != self_ && reachable_[peer]) send(peer, Heartbeat{});
  }
}

void Node::on_tick(uint64_t now_ms) {
  heartbeats(now_ms);
  std::vector<bool> up(reachable_.size());
  for (MemberIndex m = 0; m < up.size(); ++m) up[m] = m != self_ && peer_up(m);
  anti_entropy_.on_tick(now_ms, up);
  std::vector<RequestId> expired;
  for (const auto& [id, write] : writes_) {
    if (write.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    auto& write = writes_.at(id);
    auto acks = static_cast<uint32_t>(std::count(write.slots.begin(), write.slots.end(), Slot::replied));
    fail(write.origin, Outcome::unavailable,
         "write quorum not reached before the deadline; the write may still be applied on some replicas", acks,
         write.w);
    writes_.erase(id);
  }
  expired.clear();
  for (auto& [id, read] : reads_) {
    if (read.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    auto& read = reads_.at(id);
    // Replicas that never answered count as failed; check_read answers 503 if R is out of reach,
    // then repairs what did answer.
    std::replace(read.slots.begin(), read.slots.end(), Slot::waiting, Slot::failed);
    check_read(now_ms, id);
  }
  expired.clear();
  for (auto& [id, forward] : forwards_) {
    if (forward.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    fail(forwards_.at(id).origin, Outcome::unavailable, "the coordinating replica did not answer before the deadline");
    forwards_.erase(id);
  }
}

// ---- helpers ----------------------------------------------------------------------------------

void Node::storage(RequestId op, uint32_t partition, std::string key, std::optional<StorageUpdate> update,
                   Continuation then) {
  ops_.emplace(op, PendingOp{partition, key, update.has_value(), std::move(then)});
  effects_.push_back(StorageOp{op, partition, std::move(key), std::move(update)});
}

void Node::respond(const Origin& origin, ClientResponse response) {
  if (response.outcome == Outcome::unavailable) ++counters_.quorum_failures;
  if (origin.from_peer) {
    send(origin.peer, ForwardReply{origin.id, std::move(response)});
  } else {
    effects_.push_back(ReplyClient{origin.id, std::move(response)});
  }
}

void Node::fail(const Origin& origin, Outcome outcome, std::string message, uint32_t acknowledged, uint32_t required) {
  ClientResponse response;
  response.outcome = outcome;
  response.message = std::move(message);
  response.acknowledged = acknowledged;
  response.required = required;
  respond(origin, std::move(response));
}

}  // namespace md::core
