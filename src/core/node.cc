#include "core/node.h"

#include <algorithm>
#include <cassert>

#include "core/context_token.h"
#include "core/object_codec.h"

namespace md::core {

Node::Node(Ring ring, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
           uint64_t request_id_base)
    : Node(founding_state(ring), self, std::move(node_id), epoch, options, request_id_base) {}

Node::Node(ClusterState state, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
           uint64_t request_id_base)
    : options_(options),
      actor_(actor_id(node_id, epoch)),
      out_(request_id_base | 1),  // never 0: read repairs send id 0, which nothing waits for
      membership_(out_, std::move(state), self, std::move(node_id), options_.zone, options_.gossip_interval_ms,
                  request_id_base, options_.defaults.n),
      ring_version_(membership_.ring_version()),
      peers_(membership_.ring().members().size(), self, options_.failure_detector),
      writes_(WriteOptions{options_.request_timeout_ms, options_.buggy_colocated_hints}),
      reads_(self, ReadOptions{options_.request_timeout_ms, options_.read_repair_window_ms}),
      handoff_(membership_.ring().members().size(),
               HandoffOptions{options_.hints_max, options_.handoffs_in_flight_max, options_.handoff_retry_ms,
                              options_.handoff_retry_max_ms, options_.request_timeout_ms}),
      anti_entropy_(membership_.ring(), self, options_.defaults.n, options_.anti_entropy),
      reaper_(self, options_.reaping),
      lister_(options_.request_timeout_ms),
      transfers_(self, options_.transfers) {
  peers_.set_node_id(self, membership_.node_id());
}

NodeCounters Node::counters() const {
  NodeCounters c = counters_;
  static_cast<ReadCounters&>(c) = reads_.counters();
  c.bad_replica_objects += counters_.bad_replica_objects;  // the node's own: hinted writes
  static_cast<HandoffCounters&>(c) = handoff_.counters();
  static_cast<MembershipCounters&>(c) = membership_.counters();
  static_cast<ListCounters&>(c) = lister_.counters();
  static_cast<TransferCounters&>(c) = transfers_.counters();
  c.quorum_failures = out_.unavailable_answers();
  c.suspicions = peers_.suspicions();
  return c;
}

// ---- requests ---------------------------------------------------------------------------------

void Node::on_client_request(uint64_t now_ms, RequestId client, ClientRequest request) {
  ++counters_.client_requests;
  start(now_ms, Origin{false, 0, client}, std::move(request), false);
}

void Node::start(uint64_t now_ms, Origin origin, ClientRequest request, bool forwarded) {
  if (request.key.empty() && request.op != Op::list) {
    return out_.fail(origin, Outcome::bad_request, "the key must not be empty");
  }
  if (pending_requests() >= options_.pending_requests_max) {
    return out_.fail(origin, Outcome::unavailable, "too many requests in flight at this node; retry later");
  }
  const Ring& ring = membership_.ring();
  auto nodes = static_cast<uint32_t>(ring.serving());
  if (request.op == Op::list) {  // the node asked coordinates it: never forwarded
    if (request.limit < 1 || request.limit > kListLimitMax) {
      return out_.fail(origin, Outcome::bad_request,
                       "limit must be 1 to " + std::to_string(kListLimitMax) + ", got " + std::to_string(request.limit));
    }
    auto n = resolve_quorum(request.n, std::nullopt, std::nullopt, options_.defaults, nodes);
    if (!n.is_ok()) return out_.fail(origin, Outcome::bad_request, n.status().message());
    return lister_.start(out_, view(), now_ms, origin,
                         ListRequest{std::move(request.key), std::move(request.cursor), request.limit, n->n});
  }
  auto quorum = resolve_quorum(request.n, request.r, request.w, options_.defaults, nodes);
  if (!quorum.is_ok()) return out_.fail(origin, Outcome::bad_request, quorum.status().message());
  std::optional<VersionVector> context;
  if (request.context_token && !request.context_token->empty() && request.op != Op::get) {
    auto decoded = decode_context_token(*request.context_token);
    if (!decoded.is_ok()) return out_.fail(origin, Outcome::bad_request, decoded.status().message());
    context = std::move(decoded).value();
  }
  if (request.op == Op::put && !context && !request.supersede) ++counters_.blind_writes;

  uint32_t partition = ring.partition_of_key(request.key);
  auto pref = ring.preference_list(partition, quorum->n);
  std::vector<MemberIndex> replicas(pref.begin(), pref.end());
  if (request.op == Op::inspect) {  // any node inspects, replica or not: nothing to forward
    return reads_.start(out_, now_ms, origin, std::move(request.key), partition, std::move(replicas), quorum->r,
                        true);
  }
  bool is_replica = std::find(replicas.begin(), replicas.end(), self()) != replicas.end();
  // A forwarded request is coordinated here even if our rings disagree, so it can never loop.
  if (!is_replica && !forwarded) {
    request.n = quorum->n;
    request.r = quorum->r;
    request.w = quorum->w;
    return start_forward(now_ms, origin, std::move(request), std::move(replicas));
  }
  if (request.op == Op::get) {
    return reads_.start(out_, now_ms, origin, std::move(request.key), partition, std::move(replicas), quorum->r);
  }
  if (!id_conflict().empty()) {
    return out_.fail(origin, Outcome::unavailable,
                     "this node versions no writes: its node id " + node_id() + " is also claimed by " +
                         id_conflict() + "; give one of them a new data dir (docs/operations.md) and restart it");
  }
  // While owners change, the next owners' new replicas get the write too (not counted toward W):
  // a key the transfer has passed already is not lost to them (core/transfers.h).
  std::vector<MemberIndex> incoming;
  if (const auto& next = membership_.next_ring()) {
    for (MemberIndex m : next->preference_list(partition, std::min<size_t>(quorum->n, next->serving()))) {
      if (std::find(replicas.begin(), replicas.end(), m) == replicas.end()) incoming.push_back(m);
    }
  }
  CoordinatorWrite update{std::move(context), request.op == Op::del, std::move(request.value), dot_floor_, actor_,
                          options_.siblings_max, request.supersede};
  writes_.start(out_, view(), now_ms, origin,
                WriteRequest{std::move(request.key), partition, std::move(replicas), quorum->w, request.sloppy_quorum,
                             std::move(update), std::move(incoming)});
}

// ---- forwarding -------------------------------------------------------------------------------

void Node::start_forward(uint64_t now_ms, Origin origin, ClientRequest request, std::vector<MemberIndex> replicas) {
  ++counters_.forwarded;
  std::stable_partition(replicas.begin(), replicas.end(), [&](MemberIndex m) { return peers_.up(m); });
  RequestId id = out_.next_id();
  // Half a deadline more than the coordinator's own, so its answer (a 503 with counts) wins the race.
  auto& forward = forwards_[id] = PendingForward{origin, std::move(request), std::move(replicas), 0,
                                                 now_ms + options_.request_timeout_ms * 3 / 2};
  send_forward(id, forward);
}

void Node::send_forward(RequestId id, PendingForward& forward) {
  if (forward.tried == forward.candidates.size()) {
    Origin origin = forward.origin;
    forwards_.erase(id);
    return out_.fail(origin, Outcome::unavailable, "no replica of the key could be reached to coordinate the request");
  }
  out_.send(forward.candidates[forward.tried++], Forward{id, forward.request});
}

// A forwarded read waiting on a peer that went down tries the next replica. A forwarded write does
// not: the peer may have made its dot and stored it before the connection failed, and the next
// replica would make a second dot for the same write, a sibling that a client who read one of them
// and wrote back would not replace. The write is indeterminate, as any 503 of a write.
void Node::forward_peer_down(MemberIndex peer) {
  std::vector<RequestId> waiting;
  for (const auto& [id, forward] : forwards_) {
    if (forward.tried > 0 && forward.candidates[forward.tried - 1] == peer) waiting.push_back(id);
  }
  for (RequestId id : waiting) {
    auto& forward = forwards_.at(id);
    if (forward.request.op == Op::get) {
      send_forward(id, forward);
      continue;
    }
    Origin origin = forward.origin;
    forwards_.erase(id);
    out_.fail(origin, Outcome::unavailable,
              "the replica coordinating the write became unreachable before it answered; the write is "
              "indeterminate: it may have been stored (read the key to see), and it is not sent to another "
              "replica, which would store it a second time");
  }
}

void Node::forward_tick(uint64_t now_ms) {
  while (!forwards_taken_expiry_.empty() && forwards_taken_expiry_.front().first <= now_ms) {
    forwards_taken_.erase(forwards_taken_expiry_.front().second);
    forwards_taken_expiry_.pop_front();
  }
  std::vector<RequestId> expired;
  for (const auto& [id, forward] : forwards_) {
    if (forward.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    out_.fail(forwards_.at(id).origin, Outcome::unavailable, "the coordinating replica did not answer before the deadline");
    forwards_.erase(id);
  }
}

// ---- replica service --------------------------------------------------------------------------

void Node::serve(MemberIndex peer, RequestId id, std::string key, std::optional<StorageUpdate> update, bool ack) {
  const bool write = update.has_value();
  const uint32_t partition = membership_.ring().partition_of_key(key);
  serving_.emplace(out_.storage(Part::replica, partition, std::move(key), std::move(update)),
                   Serving{peer, id, write, ack});
}

void Node::served(StorageDone& done) {
  auto it = serving_.find(done.op);
  assert(it != serving_.end() && "every Part::replica operation is served");
  Serving s = it->second;
  serving_.erase(it);
  if (!s.write) {
    ++counters_.replica_reads;
    out_.send(s.peer, ReplicaReadReply{s.id, done.status.is_ok(), std::move(done.object)});
    return;
  }
  if (done.status.is_ok()) ++counters_.replica_writes;
  if (s.ack) out_.send(s.peer, ReplicaWriteReply{s.id, done.status.is_ok()});
}

// ---- events -----------------------------------------------------------------------------------

void Node::on_peer_message(uint64_t now_ms, MemberIndex from, PeerMessage message) {
  if (from >= membership_.ring().members().size() || from == self()) return;
  std::visit(
      [&](auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, Hello>) {
          membership_.on_hello(out_, from, m.node_id);
          peers_.set_node_id(from, std::move(m.node_id));
        } else if constexpr (std::is_same_v<M, Gossip>) {
          membership_.on_gossip(out_, from, std::move(m));
          follow_ring();
        } else if constexpr (std::is_same_v<M, ReapCheck>) {
          on_reap_check(now_ms, from, m);
        } else if constexpr (std::is_same_v<M, ReapCheckReply>) {
          on_reap_reply(from, m);
        } else if constexpr (std::is_same_v<M, Reap>) {
          remove_tombstones(m);
        } else if constexpr (std::is_same_v<M, Heartbeat>) {
          peers_.heartbeat(from, now_ms);
        } else if constexpr (std::is_same_v<M, AaeTree>) {
          anti_entropy_.on_tree(out_, from, m);
        } else if constexpr (std::is_same_v<M, AaeSegments>) {
          anti_entropy_.on_segments(out_, from, m);
        } else if constexpr (std::is_same_v<M, AaeKeys>) {
          anti_entropy_.on_keys(out_, from, std::move(m));
        } else if constexpr (std::is_same_v<M, AaePull>) {
          anti_entropy_.on_pull(out_, from, std::move(m));
        } else if constexpr (std::is_same_v<M, ReplicaRead>) {
          serve(from, m.id, std::move(m.key), std::nullopt, false);
        } else if constexpr (std::is_same_v<M, ReplicaWrite>) {
          serve(from, m.id, std::move(m.key), MergeWrite{std::move(m.object)}, m.ack);
        } else if constexpr (std::is_same_v<M, ReplicaReadReply>) {
          reads_.on_reply(out_, now_ms, from, std::move(m));
        } else if constexpr (std::is_same_v<M, ReplicaWriteReply>) {
          if (!handoff_.on_delivery_reply(out_, view(), now_ms, m.id, from, m.ok)) {
            writes_.on_stored(out_, view(), handoff_, m.id, from, from, m.ok);
          }
        } else if constexpr (std::is_same_v<M, HintedWrite>) {
          bool valid = m.owner < membership_.ring().members().size() && m.owner != self() &&
                       decode_object(m.object).is_ok();
          if (!valid) ++counters_.bad_replica_objects;
          if (!valid || !handoff_.store(out_, view(), m.owner, m.key, m.object, HintAck{from, m.id})) {
            out_.send(from, HintedWriteReply{m.id, m.owner, false});
          }
        } else if constexpr (std::is_same_v<M, HintedWriteReply>) {
          writes_.on_stored(out_, view(), handoff_, m.id, from, m.owner, m.ok);
        } else if constexpr (std::is_same_v<M, Forward>) {
          if (!forwards_taken_.emplace(from, m.id).second) return;  // a duplicate: the first answers
          forwards_taken_expiry_.emplace_back(now_ms + options_.request_timeout_ms * 3, std::pair{from, m.id});
          start(now_ms, Origin{true, from, m.id}, std::move(m.request), true);
        } else if constexpr (std::is_same_v<M, ListKeys>) {
          lister_.on_list(out_, view(), from, std::move(m));
        } else if constexpr (std::is_same_v<M, ListKeysReply>) {
          lister_.on_reply(out_, view(), now_ms, from, std::move(m));
        } else if constexpr (std::is_same_v<M, TransferBatch>) {
          transfers_.on_batch(out_, view(), from, std::move(m));
        } else if constexpr (std::is_same_v<M, TransferAck>) {
          record(transfers_.on_ack(out_, now_ms, from, m));
        } else if constexpr (std::is_same_v<M, ForwardReply>) {
          auto it = forwards_.find(m.id);
          if (it == forwards_.end()) return;
          Origin origin = it->second.origin;
          forwards_.erase(it);
          out_.answer(origin, std::move(m.response));
        }
      },
      message);
}

void Node::on_storage_done(uint64_t now_ms, StorageDone done) {
  auto op = out_.complete(done.op);
  if (!op) return;
  if (done.dot_collision) {  // reported by apply_update only when new to the key: once per key
    ++counters_.dot_collisions;
    out_.push(Warn{"key '" + op->key + "': a replica write carries a version whose dot this node holds " +
                   "with other contents (two nodes share a node id?); both are kept as siblings"});
  }
  if (op->update && done.status.is_ok()) {
    const uint64_t hash = done.object ? object_hash(*done.object) : 0;
    anti_entropy_.changed(op->partition, op->key, done.previous_hash, hash);
    std::optional<std::string_view> object;
    if (done.object) object = *done.object;
    reaper_.stored(op->partition, op->key, object, hash, now_ms);
  }
  switch (op->part) {
    case Part::writes: writes_.on_storage_done(out_, view(), handoff_, done); break;
    case Part::reads: reads_.on_storage_done(out_, now_ms, std::move(done)); break;
    case Part::replica: served(done); break;
    case Part::handoff:
      for (const auto& ack : handoff_.on_storage_done(out_, view(), now_ms, done)) {
        writes_.on_stored(out_, view(), handoff_, ack.write, self(), ack.owner, ack.ok);
      }
      break;
    case Part::reaper:
      if (done.status.is_ok() && !done.object) ++counters_.tombstones_reaped;
      break;
    case Part::transfers: transfers_.on_storage_done(out_, done); break;
  }
}

void Node::on_storage_applied(RequestId op, std::string_view object) {
  writes_.on_storage_applied(out_, view(), handoff_, op, object);
}

void Node::on_scan_done(uint64_t now_ms, ScanDone done) {
  if (transfers_.on_scan_done(out_, now_ms, done) || lister_.on_scan_done(out_, view(), now_ms, done)) return;
  anti_entropy_.on_scan_done(out_, done);
}

void Node::load_object(uint64_t now_ms, uint32_t partition, std::string_view key, std::string_view object) {
  anti_entropy_.load(partition, key, object);
  reaper_.stored(partition, key, object, object_hash(object), now_ms);  // its grace starts again
}

void Node::on_hints_recovered(const std::vector<std::string>& hint_keys) { handoff_.recovered(view(), hint_keys); }

Status Node::on_join_request(const std::string& address, const std::string& node_id, const std::string& zone) {
  Status asked = membership_.on_join_request(out_, address, node_id, zone);
  follow_ring();
  return asked;
}

Status Node::request_departure(const std::string& name, const Departure& departure) {
  Status asked = membership_.request_departure(out_, name, departure);
  follow_ring();
  return asked;
}

void Node::record(const std::vector<Transfer>& progress) {
  for (const auto& t : progress) membership_.transfer_progress(out_, t);
  follow_ring();
}

void Node::on_peer_up(MemberIndex peer) {
  if (!peers_.connected(peer)) return;
  out_.send(peer, Hello{node_id()});
  handoff_.on_peer_up(peer);
}

// Whatever the peer still owed us will not come: each part counts it as failed now rather than
// at the deadline.
void Node::on_peer_down(uint64_t now_ms, MemberIndex peer) {
  if (!peers_.disconnected(peer)) return;
  anti_entropy_.on_peer_down(peer);
  transfers_.on_peer_down(peer);
  reaper_.on_peer_down(peer);
  writes_.on_peer_down(out_, view(), handoff_, peer);
  handoff_.on_peer_down(out_, view(), now_ms, peer);
  reads_.on_peer_down(out_, now_ms, peer);
  lister_.on_peer_down(out_, view(), now_ms, peer);
  forward_peer_down(peer);
}

void Node::on_tick(uint64_t now_ms) {
  peers_.tick(out_, now_ms);
  anti_entropy_.on_tick(out_, membership_.ring(), now_ms, peers_.up_others());
  writes_.on_tick(out_, view(), handoff_, now_ms);
  reads_.on_tick(out_, now_ms);
  lister_.on_tick(out_, view(), now_ms);
  forward_tick(now_ms);
  handoff_.on_tick(out_, view(), now_ms);
  membership_.on_tick(out_, peers_, now_ms);
  follow_ring();
  record(transfers_.on_tick(out_, membership_.state(), view(), now_ms));
  reap_tick(now_ms);
}

void Node::follow_ring() {
  if (membership_.ring_version() == ring_version_) return;
  ring_version_ = membership_.ring_version();
  const Ring& ring = membership_.ring();
  peers_.resize(ring.members().size());
  handoff_.resize(ring.members().size());
  anti_entropy_.on_ring_changed(ring);
  reaper_.on_ring_changed();
}

}  // namespace md::core
