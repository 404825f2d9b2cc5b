#include "sim/cluster.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

#include "core/actor_epoch.h"
#include "core/context_token.h"
#include "core/hinted_handoff.h"
#include "core/object_codec.h"
#include "core/replica.h"

namespace md::sim {

namespace {

// Addresses as deployments have them: hosts in 10.0.0.0/16, most on the default port 5001 (one
// node per host), some on another port; founders sorted, as a founding ring numbers them.
std::vector<std::string> draw_addresses(const ClusterOptions& options, Rng& rng) {
  std::vector<std::string> out;
  while (out.size() < options.nodes) {
    const uint64_t host = rng.between(1, 65534);
    const uint64_t port = rng.below(4) == 0 ? rng.between(1024, 32767) : 5001;
    std::string address = "10.0." + std::to_string(host >> 8) + "." + std::to_string(host & 0xff) + ":" +
                          std::to_string(port);
    if (std::find(out.begin(), out.end(), address) == out.end()) out.push_back(std::move(address));
  }
  std::sort(out.begin(), out.end() - static_cast<std::ptrdiff_t>(options.joiners));
  return out;
}

std::vector<std::string> draw_ids(const ClusterOptions& options, Rng& rng) {
  std::vector<std::string> out;
  for (size_t i = 0; i < options.nodes; ++i) {
    char hex[33];
    std::snprintf(hex, sizeof hex, "%016llx%016llx", static_cast<unsigned long long>(rng.next()),
                  static_cast<unsigned long long>(rng.next()));
    out.push_back(std::string("node_") + hex);
  }
  return out;
}

core::Ring make_ring(const ClusterOptions& options, const std::vector<std::string>& addresses) {
  auto ring = core::Ring::create({addresses.begin(), addresses.end() - static_cast<std::ptrdiff_t>(options.joiners)},
                                 options.partitions);
  assert(ring.is_ok());
  return std::move(ring).value();
}

// Drops the newest sibling: the broken merge the mutation test expects the checker to catch.
std::string drop_a_sibling(const std::string& bytes) {
  auto object = core::decode_object(bytes);
  if (!object.is_ok() || object->siblings().size() < 2) return bytes;
  auto siblings = object->siblings();
  siblings.pop_back();
  return core::encode_object(core::DvvSet::from_parts(object->context(), std::move(siblings)));
}

}  // namespace

// Node i's side of the effect runner: its network, replies and kept state go to the cluster.
class Cluster::Host final : public node::Host {
 public:
  Host(Cluster& cluster, size_t node) : cluster_(cluster), node_(node) {}
  uint64_t now_ms() const override { return cluster_.now_ms_; }
  void send(core::MemberIndex to, const core::PeerMessage& message) override { cluster_.send(node_, to, message); }
  void reply(core::RequestId client, core::ClientResponse response) override {
    cluster_.reply(node_, client, std::move(response));
  }
  Status keep_cluster_state(const core::ClusterState& state) override {
    // The ring every node ends up with is the one merges keep: the newest version, and between two
    // of one version (two claimants, one after the other, each made one) the one merge prefers.
    auto& newest = cluster_.newest_;
    auto ring_part = [](const core::ClusterState& s) {
      return std::tie(s.ring_version, s.members, s.owners, s.next_owners, s.member_zones);
    };
    core::ClusterState merged = newest ? *newest : state;
    if (newest && !core::merge(merged, state).is_ok()) merged = *newest;  // two ids for one node: kept apart
    if (!newest || ring_part(merged) != ring_part(*newest)) {
      cluster_.ring_ = core::ring_of(merged);
      note("ring version " + std::to_string(merged.ring_version) + ": " + std::to_string(cluster_.ring_.members().size()) +
           " members" + (merged.next_owners.empty() ? "" : ", owners changing"));
    }
    newest = std::move(merged);
    cluster_.machines_[node_].kept.cluster_state = state;
    return Status::ok();
  }
  Status keep_dot_floor(uint64_t floor) override {
    auto& machine = cluster_.machines_[node_];
    if (machine.disk->faults().full) return Status::io_error("simulated disk: no space left on device");
    machine.kept.dot_floor = floor;
    return Status::ok();
  }
  void warn(const std::string& message) override { note("warns: " + message); }
  void storage_failed(std::string_view what, const Status& status) override {
    note(std::string(what) + " failed: " + status.message());
    cluster_.disk_failures_.push_back(Crash{node_, cluster_.now_ms_});
  }
  void stored(uint32_t partition, const std::string& key, bool coordinator, const core::StorageDone& done) override {
    cluster_.stored(node_, partition, key, coordinator, *done.object,
                    done.status.is_ok() ? Durable::yes : Durable::write_failed);
  }
  void sent(uint32_t partition, const std::string& key, const std::string& object) override {
    cluster_.stored(node_, partition, key, true, object, Durable::sent);
  }
  void removed(uint32_t partition, const std::string& key, const std::string& previous) override {
    if (partition < cluster_.ring_.partitions()) {  // a reaped tombstone, not a delivered hint
      note("reaped " + key);
      cluster_.reaped_.push_back(ReapedTombstone{key, core::decode_object(previous)->context(), cluster_.now_ms_});
    }
  }

 private:
  void note(const std::string& line) { cluster_.note("n" + std::to_string(node_) + " " + line); }

  Cluster& cluster_;
  size_t node_;
};

// Group commit in virtual time, as the durable writer does it on its thread: a batch starts when
// the previous one is done, with everything that queued meanwhile; its updates decide their bytes
// as it starts, and it is written and synced one fsync later.
class Cluster::Committer final : public node::Committer {
 public:
  Committer(Cluster& cluster, size_t node) : cluster_(cluster), node_(node) {}

  void submit(std::vector<storage::Update> updates, node::CommitQueue::Applied applied,
              node::CommitQueue::Done done) override {
    queue_.submit(std::move(updates), std::move(applied), std::move(done));
    if (cluster_.options_.buggy_early_ack) {
      // The mutation: completed at once, the fsync left to the OS's next write-back.
      auto batch = queue_.take();
      batch.complete(cluster_.machines_[node_].disk->update_all_unsynced(batch.updates));
      return;
    }
    if (!busy_) start();
  }

  // The started batch is written and synced (CommitDone).
  void finish() {
    auto batch = std::move(batch_);
    busy_ = false;
    batch.complete(cluster_.machines_[node_].disk->commit(std::move(prepared_)));
    if (!busy_ && !queue_.empty()) start();
  }

 private:
  void start() {
    batch_ = queue_.take();
    busy_ = true;
    prepared_ = cluster_.machines_[node_].disk->prepare(batch_.updates);
    const uint64_t fsync_ms = cluster_.rng_.between(1, cluster_.options_.fsync_ms_max);
    cluster_.push(cluster_.now_ms_ + fsync_ms + cluster_.slow_ms_[node_], node_, CommitDone{});
    if (batch_.wants_applied()) batch_.applied(prepared_->results);
  }

  Cluster& cluster_;
  size_t node_;
  node::CommitQueue queue_;
  node::CommitQueue::Batch batch_;
  std::unique_ptr<storage::PreparedBatch> prepared_;
  bool busy_ = false;
};

Cluster::Cluster(ClusterOptions options)
    : options_(options),
      rng_(options.seed),
      addresses_(draw_addresses(options, rng_)),
      ids_(draw_ids(options, rng_)),
      ring_(make_ring(options, addresses_)),
      machines_(options.nodes),
      up_(options.nodes, true),
      member_(options.nodes, true),
      joining_via_(options.nodes),
      incarnation_(options.nodes, 0),
      slow_ms_(options.nodes, 0),
      group_(options.nodes, 0),
      trace_state_(XXH3_createState()) {
  XXH3_64bits_reset(trace_state_.get());
  for (size_t i = 0; i < options_.nodes; ++i) {
    machines_[i].disk = std::make_unique<SimDisk>(rng_, options_.sync);
    const bool joiner = i + options_.joiners >= options_.nodes;
    if (!joiner) start(i, 0);
    up_[i] = member_[i] = !joiner;
  }
  // The OS writes back what is not synced (with DiskSync::always: removals, which are not synced).
  for (size_t i = 0; i < options_.nodes; ++i) push(options_.flush_interval_ms, i, Flush{});
}

Cluster::~Cluster() = default;

std::string Cluster::zone(size_t i) const {
  return options_.zones == 0 ? std::string() : "z" + std::to_string(i * options_.zones / options_.nodes);
}

void Cluster::start(size_t i, uint32_t epoch) {
  auto& m = machines_[i];
  m.kept.epoch = epoch;
  // Founders' addresses are sorted and joiners join one at a time in index order, so member
  // index i is node i.
  const auto self = static_cast<core::MemberIndex>(i);
  core::NodeOptions node_options = options_.node;
  node_options.zone = zone(i);
  m.node = m.kept.cluster_state
               ? std::make_unique<core::Node>(*m.kept.cluster_state, self, ids_[i], epoch, node_options, rng_.next() >> 1)
               : std::make_unique<core::Node>(ring_, self, ids_[i], epoch, node_options, rng_.next() >> 1);
  m.host = std::make_unique<Host>(*this, i);
  m.committer = options_.sync == DiskSync::always ? std::make_unique<Committer>(*this, i) : nullptr;
  m.runner = std::make_unique<node::EffectRunner>(*m.node, *m.disk, m.committer.get(), *m.host, apply_fn(i));
  // As the runtime does on start: the dot floor comes back, the anti-entropy trees, the
  // tombstones and the hints are found again in what the disk kept (read without faults: a node
  // that cannot read its disk does not start, which the simulator does not model).
  m.node->restore_dot_floor(m.kept.dot_floor);
  const DiskFaults faults = m.disk->faults();
  m.disk->set_faults(DiskFaults{});
  auto recovered = m.runner->recover();
  assert(recovered.is_ok());
  m.disk->set_faults(faults);
}

node::ApplyFn Cluster::apply_fn(size_t i) const {
  auto apply = node::core_apply();
  const auto& o = options_;
  if (!o.buggy_merge && !o.buggy_handoff && !o.buggy_dot_floor && !o.buggy_ids) return apply;
  // A mutation test: the storage step, broken as the option says.
  return [apply, o, shared_id = ids_[0], own_id = ids_[i]](uint32_t partition, std::optional<std::string_view> current,
                                                            const core::StorageUpdate& update) -> Result<core::Applied> {
    if (o.buggy_handoff && partition == core::kHintPartition) return core::Applied{};  // acknowledged, never kept
    core::StorageUpdate changed = update;
    if (auto* write = std::get_if<core::CoordinatorWrite>(&changed)) {
      if (o.buggy_dot_floor) write->dot_floor = 0;
      if (o.buggy_ids) write->actor.replace(0, own_id.size(), shared_id);
    }
    auto applied = apply(partition, current, changed);
    if (applied.is_ok() && applied->bytes && o.buggy_merge && std::holds_alternative<core::MergeWrite>(update)) {
      applied->bytes = drop_a_sibling(*applied->bytes);
    }
    return applied;
  };
}

std::string Cluster::actor_of(size_t i) const {
  std::string actor = machines_[i].node->actor();
  if (options_.buggy_ids) actor.replace(0, ids_[i].size(), ids_[0]);
  return actor;
}

void Cluster::note(const std::string& line) {
  std::string text = "t=" + std::to_string(now_ms_) + " " + line + "\n";
  XXH3_64bits_update(trace_state_.get(), text.data(), text.size());
  if (options_.trace) trace_ += text;
}

void Cluster::push(uint64_t at_ms, size_t node, What what, uint64_t handle) {
  queue_.push(Event{at_ms, seq_++, node, std::move(what), handle, incarnation_[node]});
}

uint64_t Cluster::submit(size_t at, core::ClientRequest request) {
  uint64_t handle = next_handle_++;
  if (request.op == core::Op::put || request.op == core::Op::del) requests_[handle] = request;  // writes
  push(now_ms_, at, std::move(request), handle);
  return handle;
}

std::optional<core::ClientResponse> Cluster::response(uint64_t handle) const {
  auto it = responses_.find(handle);
  if (it == responses_.end()) return std::nullopt;
  return it->second;
}

void Cluster::run_for(uint64_t ms) {
  uint64_t end = now_ms_ + ms;
  uint64_t next_tick = (now_ms_ / options_.tick_ms + 1) * options_.tick_ms;
  while (true) {
    bool event_first = !queue_.empty() && queue_.top().at_ms <= std::min(end, next_tick);
    if (event_first) {
      Event e = queue_.top();
      queue_.pop();
      now_ms_ = std::max(now_ms_, e.at_ms);
      deliver(e);
    } else if (next_tick <= end) {
      now_ms_ = next_tick;
      poll_joins();
      for (size_t i = 0; i < machines_.size(); ++i) {
        if (up_[i]) machines_[i].runner->tick();
      }
      next_tick += options_.tick_ms;
    } else {
      now_ms_ = end;
      return;
    }
  }
}

std::optional<core::ClientResponse> Cluster::await(uint64_t handle, uint64_t limit_ms) {
  for (uint64_t waited = 0; waited < limit_ms && !response(handle); waited += options_.tick_ms) {
    run_for(options_.tick_ms);
  }
  return response(handle);
}

void Cluster::deliver(Event& e) {
  auto& machine = machines_[e.node];
  if (std::holds_alternative<Flush>(e.what)) {
    // The OS writes back what it holds, crashed or not; then the next flush is due.
    machine.disk->write_back();
    push(now_ms_ + options_.flush_interval_ms, e.node, Flush{});
    return;
  }
  if (!up_[e.node] || e.incarnation != incarnation_[e.node]) return;  // lost with the crash
  auto& runner = *machine.runner;
  std::string where = "n" + std::to_string(e.node) + " ";
  std::visit(
      [&](auto& what) {
        using W = std::decay_t<decltype(what)>;
        if constexpr (std::is_same_v<W, core::ClientRequest>) {
          note(where + "client#" + std::to_string(e.handle) + " " + core::to_string(what.op) + " " + what.key +
               (what.value.empty() ? "" : " " + what.value));
          runner.client_request(e.handle, std::move(what));
        } else if constexpr (std::is_same_v<W, CommitDone>) {
          note(where + "commit done");
          machine.committer->finish();
        } else if constexpr (std::is_same_v<W, PeerDown>) {
          // The peer restarted since: the restart already gave this node a new connection to it,
          // as the runtime's reconnect would.
          if (what.peer_incarnation != incarnation_[what.peer]) return;
          note(where + "peer_down n" + std::to_string(what.peer));
          runner.peer_down(what.peer);
        } else if constexpr (std::is_same_v<W, std::pair<core::MemberIndex, core::PeerMessage>>) {
          note(where + core::message_name(what.second) + " from n" + std::to_string(what.first));
          runner.peer_message(what.first, std::move(what.second));
        }
      },
      e.what);
}

void Cluster::reply(size_t i, core::RequestId client, core::ClientResponse response) {
  static const char* outcomes[] = {"ok", "not_found", "bad_request", "too_many_siblings", "unavailable",
                                   "internal_error"};
  note("n" + std::to_string(i) + " reply client#" + std::to_string(client) + " " +
       outcomes[static_cast<int>(response.outcome)]);
  if (auto it = requests_.find(client); it != requests_.end()) {
    // An acknowledged write must be held by W distinct nodes by now (core/write_coordinator.h: W counts machines).
    const core::ClientRequest& request = it->second;
    if (response.outcome == core::Outcome::ok && request.op == core::Op::put) {
      // The write answered: its dot is the newest of its coordinator's actor in the context the
      // answer carries.
      auto context = core::decode_context_token(response.context_token);
      const auto w = static_cast<uint32_t>(request.w.value_or(options_.node.defaults.w));
      for (const auto& write : stored_writes_) {
        if (!context.is_ok() || write.key != request.key || write.value != request.value ||
            context->get(write.dot.node) != write.dot.counter) {
          continue;
        }
        if (size_t held = holders(request.key, write.dot); held < w) {
          thin_acks_.push_back(ThinAck{request.key, request.value, w, held});
        }
      }
    }
    requests_.erase(it);
  }
  responses_[client] = std::move(response);
}

size_t Cluster::holders(const std::string& key, const core::Dot& dot) const {
  const uint32_t partition = ring_.partition_of_key(key);
  size_t held = 0;
  for (const auto& m : machines_) {
    auto covers = [&](const std::string& bytes) {
      auto object = core::decode_object(bytes);
      return object.is_ok() && object->context().covers(dot);
    };
    auto data = m.disk->bytes(partition, key);
    bool holds = data && covers(*data);
    m.disk->visit(core::kHintPartition, [&](std::string_view hint_key, std::string_view bytes) {
      auto address = core::decode_hint_key(hint_key);
      if (address.is_ok() && address->key == key && covers(std::string(bytes))) holds = true;
      return !holds;
    });
    held += holds ? 1 : 0;
  }
  return held;
}

void Cluster::stored(size_t i, uint32_t partition, const std::string& key, bool coordinator, const std::string& object,
                     Durable durable) {
  const bool unsynced = durable != Durable::yes;
  if (coordinator) {
    // The new sibling carries the coordinator's newest dot.
    auto decoded = *core::decode_object(object);
    const std::string actor = actor_of(i);
    core::Dot dot{actor, decoded.context().get(actor)};
    for (const auto& s : decoded.siblings()) {
      if (s.dot != dot) continue;
      static const char* verbs[] = {" stored ", " wrote, fsync failed, ", " sent before storing "};
      note("n" + std::to_string(i) + verbs[static_cast<int>(durable)] + key + " (" + dot.node + "," +
           std::to_string(dot.counter) + ") " + (s.tombstone ? "tombstone" : s.value));
      stored_writes_.push_back(
          StoredWrite{i, key, dot, s.context, s.tombstone, s.value, now_ms_, unsynced, durable == Durable::sent});
    }
  }
  if (options_.buggy_reaping && !unsynced && partition < ring_.partitions() && core::deleted_object_counter(object)) {
    // The mutation: the tombstone goes at once, asking no one.
    note("n" + std::to_string(i) + " reaped " + key);
    reaped_.push_back(ReapedTombstone{key, core::decode_object(object)->context(), now_ms_});
    machines_[i].disk->erase(partition, key);
  }
}

void Cluster::join(size_t node, size_t via) {
  assert(!member_[node] && (node == 0 || member_[node - 1]));
  note("n" + std::to_string(node) + " joins via n" + std::to_string(via));
  joining_via_[node] = via;
  next_join_poll_ms_ = now_ms_;
  poll_joins();
}

Status Cluster::request_departure(size_t node, size_t member, const core::Departure& departure) {
  note("n" + std::to_string(node) + " asks n" + std::to_string(member) + " to " + core::to_string(departure.kind) +
       (departure.replacement.empty() ? "" : " for " + departure.replacement));
  const Status asked = machines_[node].node->request_departure(addresses_[member], departure);
  machines_[node].runner->run();
  return asked;
}

Status Cluster::change_user(size_t node, const std::string& name, core::User user) {
  note("n" + std::to_string(node) + " changes user " + name);
  const Status changed = machines_[node].node->change_user(name, std::move(user));
  machines_[node].runner->run();
  return changed;
}

void Cluster::poll_joins() {
  if (now_ms_ < next_join_poll_ms_) return;
  next_join_poll_ms_ = now_ms_ + kJoinPollMs;
  for (size_t i = 0; i < machines_.size(); ++i) {
    if (!joining_via_[i] || !up_[*joining_via_[i]] || group_[i] != group_[*joining_via_[i]]) continue;
    size_t via = *joining_via_[i];
    const Status asked = machines_[via].node->on_join_request(addresses_[i], ids_[i], zone(i));
    core::ClusterState state = machines_[via].node->cluster_state();
    machines_[via].runner->run();
    if (!asked.is_ok()) continue;  // not yet (`via` has not learned every member's id): asked again
    if (state.members.size() <= i || state.members[i] != addresses_[i]) continue;
    joining_via_[i].reset();
    machines_[i].kept.cluster_state = std::move(state);
    start(i, 0);
    up_[i] = member_[i] = true;
    note("n" + std::to_string(i) + " joined");
    connect(i);  // members that knew it (and failed to reach it before it ran) reconnect too
  }
}

void Cluster::connect(size_t node) {
  for (size_t i = 0; i < machines_.size(); ++i) {
    if (i == node || !up_[i]) continue;
    machines_[i].runner->peer_up(static_cast<core::MemberIndex>(node));
    machines_[node].node->on_peer_up(static_cast<core::MemberIndex>(i));
  }
  machines_[node].runner->run();
}

void Cluster::send(size_t from, core::MemberIndex to, const core::PeerMessage& message) {
  const auto& net = options_.network;
  if (send_observer_) send_observer_(from, to, message);
  if (!up_[to]) {  // a crashed node refuses connections: the sender learns at once
    push(now_ms_ + net.latency_ms, from, PeerDown{to, incarnation_[to]});
    return;
  }
  if (group_[from] != group_[to] || rng_.chance(net.loss)) return;
  int copies = rng_.chance(net.duplicate) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    uint64_t delay = rng_.long_tail(net.latency_ms, net.latency_max_ms) + slow_ms_[from] + slow_ms_[to];
    push(now_ms_ + delay, to, std::make_pair(static_cast<core::MemberIndex>(from), message));
  }
}

void Cluster::set_disk_faults(size_t node, const DiskFaults& faults) { machines_[node].disk->set_faults(faults); }

uint64_t Cluster::dot_collisions() const {
  uint64_t total = 0;
  for (const auto& m : machines_) total += m.node ? m.node->counters().dot_collisions : 0;
  return total;
}

size_t Cluster::hints_on_disk(size_t node) const { return machines_[node].disk->keys(core::kHintPartition); }

void Cluster::crash(size_t node) {
  note("crash n" + std::to_string(node));
  crashes_.push_back(Crash{node, now_ms_});
  up_[node] = false;
  ++incarnation_[node];
  auto& m = machines_[node];
  m.runner.reset();  // volatile state is gone
  m.committer.reset();
  m.host.reset();
  m.node.reset();
  m.disk->crash();  // and so is what the OS had not written back
  for (size_t i = 0; i < machines_.size(); ++i) {
    if (up_[i]) {
      push(now_ms_ + options_.network.latency_ms, i, PeerDown{static_cast<core::MemberIndex>(node), incarnation_[node]});
    }
  }
}

void Cluster::restart(size_t node) {
  assert(member_[node]);
  note("restart n" + std::to_string(node));
  // As the runtime does (core/actor_epoch.h): after a crash, which may have lost writes the node
  // had sent out, it versions new writes under a new actor id, so that no dot is made twice. The
  // mutation keeps the old one.
  const std::optional<uint32_t> kept = machines_[node].kept.epoch;
  const uint32_t epoch =
      options_.buggy_actor_epochs ? kept.value_or(0) : core::next_epoch(core::PreviousRun{kept, true}, true);
  ++incarnation_[node];  // a new life: notices about the crashed one are stale
  start(node, epoch);
  up_[node] = true;
  connect(node);
}

void Cluster::partition(std::vector<int> group) {
  std::string line = "partition";
  for (int g : group) line += " " + std::to_string(g);
  note(line);
  group_ = std::move(group);
}

void Cluster::heal() {
  note("heal");
  std::fill(group_.begin(), group_.end(), 0);
}

void Cluster::erase_from_disk(size_t node, const std::string& key) {
  assert(!up_[node] && "a running node's anti-entropy tree would not know");
  machines_[node].disk->erase(ring_.partition_of_key(key), key);
}

std::optional<core::DvvSet> Cluster::stored(size_t node, const std::string& key) const {
  auto bytes = machines_[node].disk->bytes(ring_.partition_of_key(key), key);
  if (!bytes) return std::nullopt;
  return *core::decode_object(*bytes);
}

}  // namespace md::sim
