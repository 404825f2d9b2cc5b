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

Node::Node(Ring ring, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
           uint64_t request_id_base)
    : Node(founding_state(ring), self, std::move(node_id), epoch, options, request_id_base) {}

Node::Node(ClusterState state, MemberIndex self, std::string node_id, uint32_t epoch, NodeOptions options,
           uint64_t request_id_base)
    : state_(std::move(state)),
      gossip_rng_(request_id_base),
      ring_version_(state_.ring_version),
      ring_(ring_of(state_)),
      self_(self),
      node_id_(std::move(node_id)),
      actor_(actor_id(node_id_, epoch)),
      options_(options),
      reachable_(ring_.members().size(), true),
      detectors_(ring_.members().size(), PhiAccrualDetector(options_.failure_detector)),
      suspected_(ring_.members().size(), false),
      peer_ids_(ring_.members().size()),
      next_id_(request_id_base | 1),  // never 0: read repairs send id 0, which nothing waits for
      pending_hints_(ring_.members().size(), 0),
      reaper_(ring_, self_, options_.reaping),
      anti_entropy_(ring_, self_, options_.defaults.n, options_.anti_entropy, effects_, next_id_) {
  assert(self_ < ring_.members().size());
  peer_ids_[self_] = node_id_;
  const std::string& address = ring_.members()[self_];
  if (auto announced = announce(state_, address, node_id_); !announced.is_ok()) {
    refused_duplicate_id(announced.status().message(), other_holder(state_, address, node_id_), node_id_);
  } else if (*announced) {
    effects_.push_back(SaveClusterState{state_});  // gossip spreads it
  }
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
  if (!id_conflict_.empty()) {
    return fail(origin, Outcome::unavailable,
                "this node versions no writes: its node id " + node_id_ + " is also claimed by " + id_conflict_ +
                    "; give one of them a new data dir (docs/operations.md) and restart it");
  }
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
  write.partition = partition;
  write.owners = std::move(replicas);
  write.w = q.w;
  write.sloppy = request.sloppy_quorum;
  write.deadline_ms = now_ms + options_.request_timeout_ms;
  // Replicas known to be down get a stand-in now; everything is sent once the local store made the object.
  for (MemberIndex owner : write.owners) {
    if (owner == self_ || peer_up(owner)) {
      write.targets.push_back(WriteTarget{owner, owner, true, Slot::waiting});
    } else if (auto target = stand_in(write, owner)) {
      write.targets.push_back(*target);
    }
  }
  CoordinatorWrite update{std::move(context), request.op == Op::del, std::move(request.value), dot_floor_, actor_,
                          options_.siblings_max};
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
  write.object = *done.object;
  for (size_t i = 0; i < write.targets.size(); ++i) dispatch(id, write, i);
  check_write(id);
}

// Sends the object to one target, or stores it here: the own replica is already stored, a hint
// for another replica goes to this node's hint store.
void Node::dispatch(RequestId id, PendingWrite& write, size_t target) {
  auto& t = write.targets[target];
  if (t.slot != Slot::waiting) return;
  if (t.node == self_ && t.owner == self_) {
    t.slot = Slot::replied;
  } else if (t.node == t.owner) {
    send(t.node, ReplicaWrite{id, write.key, write.object, true});
  } else if (t.node == self_) {
    if (!store_hint(t.owner, write.key, write.object, HintAck{self_, id})) t.slot = Slot::failed;
  } else {
    send(t.node, HintedWrite{id, t.owner, write.key, write.object});
  }
}

// Who keeps a hint for `owner`, a replica that is down or failed. For a sloppy write not yet
// answered: the first healthy node of the key's ring walk beyond its N replicas that holds no
// copy of this write yet; its acknowledgement counts toward W, since it is another machine
// holding the write (the Dynamo paper's first N healthy nodes). Otherwise this coordinator keeps
// the hint: the owner still gets the write later, but a hint beside a replica on one machine is
// not another copy, and it does not count.
std::optional<Node::WriteTarget> Node::stand_in(const PendingWrite& write, MemberIndex owner) const {
  auto tried = [&](MemberIndex node) {
    return std::any_of(write.targets.begin(), write.targets.end(),
                       [&](const WriteTarget& t) { return t.node == node && t.owner == owner; });
  };
  if (write.sloppy && !write.answered) {
    auto holds_a_copy = [&](MemberIndex node) {  // a replica of this write, or a hint of it
      return std::find(write.owners.begin(), write.owners.end(), node) != write.owners.end() ||
             std::any_of(write.targets.begin(), write.targets.end(), [&](const WriteTarget& t) { return t.node == node; });
    };
    auto walk = ring_.preference_list(write.partition, ring_.members().size());
    for (size_t step = write.owners.size(); step < walk.size(); ++step) {
      MemberIndex m = walk[step];
      if (!peer_up(m) || holds_a_copy(m)) continue;
      return WriteTarget{m, owner, true, Slot::waiting};
    }
  }
  if (tried(self_)) return std::nullopt;
  return WriteTarget{self_, owner, options_.buggy_colocated_hints && write.sloppy, Slot::waiting};
}

void Node::target_done(RequestId id, MemberIndex node, MemberIndex owner, bool ok) {
  auto it = writes_.find(id);
  if (it == writes_.end()) return;  // settled already; a late acknowledgement changes nothing
  auto& write = it->second;
  auto target = std::find_if(write.targets.begin(), write.targets.end(), [&](const WriteTarget& t) {
    return t.node == node && t.owner == owner && t.slot == Slot::waiting;
  });
  if (target == write.targets.end()) return;
  target->slot = ok ? Slot::replied : Slot::failed;
  bool covered = std::any_of(write.targets.begin(), write.targets.end(),
                             [&](const WriteTarget& t) { return t.owner == owner && t.slot != Slot::failed; });
  if (!covered) {
    if (auto next = stand_in(write, owner)) {
      write.targets.push_back(*next);
      if (!write.object.empty()) dispatch(id, write, write.targets.size() - 1);
    }
  }
  check_write(id);
}

void Node::check_write(RequestId id) {
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
  if (!write.answered && acks >= write.w) {
    ClientResponse response;
    response.acknowledged = acks;
    response.context_token = std::move(write.context_token);
    respond(write.origin, std::move(response));
    write.answered = true;
  } else if (!write.answered && acks + waiting < write.w && waiting == 0) {
    // W is out of reach. The answer waits for every replica still writing, so that `acknowledged`
    // says how many hold the write: a failed write is not undone, and the replicas it missed get
    // it later from this node's hints, so it may still be read.
    fail(write.origin, Outcome::unavailable,
         std::string("write quorum not reached: too many replicas are unreachable") +
             (write.sloppy ? "" : " (strict quorum: no fallbacks)") +
             "; the write is indeterminate: it stays on the replicas that acknowledged it and reaches the others "
             "later",
         acks, write.w);
    write.answered = true;
  }
  if (write.answered && settled) writes_.erase(id);
}

// At the deadline: answers 503 if still unanswered, and keeps the write as a hint here for every
// replica that neither acknowledged it nor has a hint of it on the way, so that it gets it later.
void Node::expire_write(RequestId id) {
  auto& write = writes_.at(id);
  if (!write.answered) {
    auto acks = static_cast<uint32_t>(std::count_if(write.targets.begin(), write.targets.end(), [](const WriteTarget& t) {
      return t.counts && t.slot == Slot::replied;
    }));
    fail(write.origin, Outcome::unavailable,
         "write quorum not reached before the deadline; the write may still be applied on some replicas", acks,
         write.w);
  }
  if (!write.object.empty()) {
    for (MemberIndex owner : write.owners) {
      bool on_its_way = std::any_of(write.targets.begin(), write.targets.end(), [&](const WriteTarget& t) {
        return t.owner == owner && (t.slot == Slot::replied || (t.slot == Slot::waiting && t.node == self_));
      });
      if (!on_its_way) store_hint(owner, write.key, write.object, HintAck{});
    }
  }
  writes_.erase(id);
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
          if (m.node_id == node_id_) {
            refused_duplicate_id("node id " + node_id_ + " is claimed by both " + ring_.members()[self_] + " and " +
                                     ring_.members()[from] + "; a node id must name one node",
                                 ring_.members()[from], node_id_);
          }
          peer_ids_[from] = std::move(m.node_id);
        } else if constexpr (std::is_same_v<M, Gossip>) {
          on_gossip(from, std::move(m));
        } else if constexpr (std::is_same_v<M, ReapCheck>) {
          on_reap_check(now_ms, from, m);
        } else if constexpr (std::is_same_v<M, ReapCheckReply>) {
          on_reap_reply(from, m);
        } else if constexpr (std::is_same_v<M, Reap>) {
          remove_tombstones(m);
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
          // read_replied may complete the read and erase it, replicas and all: nothing of it is used
          // after the call (ASan found the loop that went on over the freed list).
          const auto& replicas = it->second.replicas;
          auto at = std::find(replicas.begin(), replicas.end(), from);
          if (at != replicas.end()) {
            read_replied(now_ms, m.id, static_cast<size_t>(at - replicas.begin()), m.ok, std::move(m.object));
          }
        } else if constexpr (std::is_same_v<M, ReplicaWriteReply>) {
          if (handoffs_.contains(m.id)) {
            handoff_replied(now_ms, m.id, from, m.ok);
          } else {
            target_done(m.id, from, from, m.ok);
          }
        } else if constexpr (std::is_same_v<M, HintedWrite>) {
          bool valid = m.owner < ring_.members().size() && m.owner != self_ && decode_object(m.object).is_ok();
          if (!valid) ++counters_.bad_replica_objects;
          if (!valid || !store_hint(m.owner, m.key, m.object, HintAck{from, m.id})) {
            send(from, HintedWriteReply{m.id, m.owner, false});
          }
        } else if constexpr (std::is_same_v<M, HintedWriteReply>) {
          target_done(m.id, from, m.owner, m.ok);
        } else if constexpr (std::is_same_v<M, Forward>) {
          if (!forwards_taken_.emplace(from, m.id).second) return;  // a duplicate: the first answers
          forwards_taken_expiry_.emplace_back(now_ms + options_.request_timeout_ms * 3, std::pair{from, m.id});
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
  if (done.dot_collision) {  // reported by apply_update only when new to the key: once per key
    ++counters_.dot_collisions;
    effects_.push_back(Warn{"key '" + op.key + "': a replica write carries a version whose dot this node holds " +
                            "with other contents (two nodes share a node id?); both are kept as siblings"});
  }
  if (op.update && done.status.is_ok()) {
    const uint64_t hash = done.object ? object_hash(*done.object) : 0;
    anti_entropy_.changed(op.partition, op.key, done.previous_hash, hash);
    std::optional<std::string_view> object;
    if (done.object) object = *done.object;
    reaper_.stored(op.partition, op.key, object, hash, now_ms);
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
        } else if constexpr (std::is_same_v<C, AfterHintMerge>) {
          hint_merged(c.hint, done.status.is_ok());
        } else if constexpr (std::is_same_v<C, AfterHintRead>) {
          hint_read(now_ms, c.hint, done);
        } else if constexpr (std::is_same_v<C, AfterHintRemove>) {
          hint_removed(c.hint, done.status.is_ok());
        } else if constexpr (std::is_same_v<C, AfterReap>) {
          if (done.status.is_ok() && !done.object) ++counters_.tombstones_reaped;
        }
      },
      then);
}

void Node::on_scan_done(ScanDone done) { anti_entropy_.on_scan_done(done); }

void Node::load_object(uint64_t now_ms, uint32_t partition, std::string_view key, std::string_view object) {
  anti_entropy_.load(partition, key, object);
  reaper_.stored(partition, key, object, object_hash(object), now_ms);  // its grace starts again
}

void Node::on_peer_up(MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return;
  reachable_[peer] = true;
  send(peer, Hello{node_id_});
  // Its hints are due now, whatever backoff earlier failures built up.
  for (auto it = hints_.lower_bound(HintKey{peer, {}}); it != hints_.end() && it->first.owner == peer; ++it) {
    it->second.due_ms = 0;
    it->second.failures = 0;
  }
  next_handoff_scan_ms_ = 0;
}

void Node::on_peer_down(uint64_t now_ms, MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return;
  reachable_[peer] = false;
  detectors_[peer].restart();  // heartbeats pause while it reconnects; that pause is not learnt
  suspected_[peer] = false;
  anti_entropy_.on_peer_down(peer);
  reaper_.on_peer_down(peer);
  // Whatever the peer still owed us will not come: count it as failed now rather than at the
  // deadline. Ids are collected first because answering erases requests.
  std::vector<std::pair<RequestId, MemberIndex>> targets;  // (write, owner) the peer was to store
  for (const auto& [id, write] : writes_) {
    for (const auto& t : write.targets) {
      if (t.node == peer && t.slot == Slot::waiting) targets.emplace_back(id, t.owner);
    }
  }
  for (auto [id, owner] : targets) target_done(id, peer, owner, false);
  std::vector<HintKey> handoffs;
  for (const auto& [id, hk] : handoffs_) {
    if (hk.owner == peer && hints_.at(hk).stage == Hint::Stage::delivering) handoffs.push_back(hk);
  }
  for (const auto& hk : handoffs) handoff_failed(now_ms, hk);
  std::vector<RequestId> reading;
  for (const auto& [id, read] : reads_) {
    if (std::find(read.replicas.begin(), read.replicas.end(), peer) != read.replicas.end()) reading.push_back(id);
  }
  for (RequestId id : reading) {
    auto it = reads_.find(id);
    if (it == reads_.end()) continue;
    const auto& replicas = it->second.replicas;
    auto at = std::find(replicas.begin(), replicas.end(), peer);
    read_replied(now_ms, id, static_cast<size_t>(at - replicas.begin()), false, std::nullopt);
  }
  // A forwarded read waiting on that peer tries the next replica. A forwarded write does not: the
  // peer may have made its dot and stored it before the connection failed, and the next replica
  // would make a second dot for the same write, a sibling that a client who read one of them and
  // wrote back would not replace. The write is indeterminate, as any 503 of a write.
  std::vector<RequestId> forwards;
  for (const auto& [id, forward] : forwards_) {
    if (forward.tried > 0 && forward.candidates[forward.tried - 1] == peer) forwards.push_back(id);
  }
  for (RequestId id : forwards) {
    auto& forward = forwards_.at(id);
    if (forward.request.op == Op::get) {
      send_forward(id, forward);
      continue;
    }
    Origin origin = forward.origin;
    forwards_.erase(id);
    fail(origin, Outcome::unavailable,
         "the replica coordinating the write became unreachable before it answered; the write is indeterminate: "
         "it may have been stored (read the key to see), and it is not sent to another replica, which would store "
         "it a second time");
  }
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
  while (!forwards_taken_expiry_.empty() && forwards_taken_expiry_.front().first <= now_ms) {
    forwards_taken_.erase(forwards_taken_expiry_.front().second);
    forwards_taken_expiry_.pop_front();
  }
  std::vector<RequestId> expired;
  for (const auto& [id, write] : writes_) {
    if (write.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) expire_write(id);
  expired.clear();
  for (auto& [id, read] : reads_) {
    if (read.deadline_ms <= now_ms) expired.push_back(id);
  }
  for (RequestId id : expired) {
    auto& read = reads_.at(id);
    // Replicas that never answered count as failed: unanswered, the read had fewer than R replies.
    // check_read then repairs what did answer.
    std::replace(read.slots.begin(), read.slots.end(), Slot::waiting, Slot::failed);
    if (!read.answered) {
      auto replied = static_cast<uint32_t>(std::count(read.slots.begin(), read.slots.end(), Slot::replied));
      fail(read.origin, Outcome::unavailable, "read quorum not reached before the deadline: too few replicas answered in time",
           replied, read.r);
      read.answered = true;
    }
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
  handoff_tick(now_ms);
  gossip_tick(now_ms);
  reap_tick(now_ms);
}

// ---- helpers ----------------------------------------------------------------------------------

void Node::storage(RequestId op, uint32_t partition, std::string key, std::optional<StorageUpdate> update,
                   Continuation then) {
  // Only an update needs its key back: it changes the anti-entropy tree.
  ops_.emplace(op, PendingOp{partition, update ? key : std::string(), update.has_value(), std::move(then)});
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
