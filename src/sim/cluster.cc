#include "sim/cluster.h"

#include <algorithm>
#include <cassert>
#include <cstdio>

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

const char* message_name(const core::PeerMessage& m) {
  static constexpr const char* names[] = {"hello", "replica_read", "read_reply", "replica_write", "write_reply",
                                          "forward", "forward_reply", "hinted_write", "hinted_write_reply",
                                          "heartbeat", "aae_tree", "aae_segments", "aae_keys", "aae_pull", "gossip",
                                          "reap_check", "reap_check_reply", "reap"};
  static_assert(std::size(names) == std::variant_size_v<core::PeerMessage>, "a name per peer message");
  return names[m.index()];
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

Cluster::Cluster(ClusterOptions options)
    : options_(options),
      rng_(options.seed),
      addresses_(draw_addresses(options, rng_)),
      ids_(draw_ids(options, rng_)),
      ring_(make_ring(options, addresses_)),
      up_(options.nodes, true),
      member_(options.nodes, true),
      joining_via_(options.nodes),
      incarnation_(options.nodes, 0),
      slow_ms_(options.nodes, 0),
      group_(options.nodes, 0),
      disks_(options.nodes),
      trace_state_(XXH3_createState()) {
  XXH3_64bits_reset(trace_state_.get());
  epochs_.assign(options_.nodes, 0);
  for (size_t i = 0; i < options_.nodes; ++i) {
    actors_.push_back(actor_base(i));
    bool joiner = i + options_.joiners >= options_.nodes;
    nodes_.push_back(joiner ? nullptr : make_node(i));
    up_[i] = member_[i] = !joiner;
  }
  // The OS writes back what is not synced (with DiskSync::always: removals, which are not synced).
  for (size_t i = 0; i < options_.nodes; ++i) push(options_.flush_interval_ms, i, Flush{});
}

std::unique_ptr<core::Node> Cluster::make_node(size_t i) {
  // Founders' addresses are sorted and joiners join one at a time in index order, so member
  // index i is node i.
  auto node = disks_[i].cluster_state
                  ? std::make_unique<core::Node>(*disks_[i].cluster_state, static_cast<core::MemberIndex>(i),
                                                 ids_[i], options_.node, rng_.next() >> 1)
                  : std::make_unique<core::Node>(ring_, static_cast<core::MemberIndex>(i), ids_[i],
                                                 options_.node, rng_.next() >> 1);
  // As the runtime does on start: the dot floor comes back, the anti-entropy trees and the
  // tombstones are found again in what the disk kept.
  node->restore_dot_floor(disks_[i].dot_floor);
  for (const auto& [key, bytes] : disk_view(i)) node->load_object(now_ms_, key.first, key.second, bytes);
  return node;
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
      for (size_t i = 0; i < nodes_.size(); ++i) {
        if (!up_[i]) continue;
        nodes_[i]->on_tick(now_ms_);
        drain(i);
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
  if (std::holds_alternative<Flush>(e.what)) {
    // The OS writes back what it holds, crashed or not; then the next flush is due.
    write_back(e.node);
    push(now_ms_ + options_.flush_interval_ms, e.node, Flush{});
    return;
  }
  if (!up_[e.node] || e.incarnation != incarnation_[e.node]) return;  // lost with the crash
  auto& node = *nodes_[e.node];
  std::string where = "n" + std::to_string(e.node) + " ";
  std::visit(
      [&](auto& what) {
        using W = std::decay_t<decltype(what)>;
        if constexpr (std::is_same_v<W, core::ClientRequest>) {
          static const char* ops[] = {"get", "put", "delete"};
          note(where + "client#" + std::to_string(e.handle) + " " + ops[static_cast<int>(what.op)] + " " + what.key +
               (what.value.empty() ? "" : " " + what.value));
          node.on_client_request(now_ms_, e.handle, std::move(what));
        } else if constexpr (std::is_same_v<W, core::ScanDone>) {
          note(where + "scan_done op" + std::to_string(what.op) + " " + std::to_string(what.entries.size()) + " keys");
          node.on_scan_done(std::move(what));
        } else if constexpr (std::is_same_v<W, core::StorageDone>) {
          note(where + "storage_done op" + std::to_string(what.op) + (what.status.is_ok() ? "" : " failed"));
          node.on_storage_done(now_ms_, std::move(what));
        } else if constexpr (std::is_same_v<W, PeerDown>) {
          // The peer restarted since: the restart already gave this node a new connection to it,
          // as the runtime's reconnect would.
          if (what.peer_incarnation != incarnation_[what.peer]) return;
          note(where + "peer_down n" + std::to_string(what.peer));
          node.on_peer_down(now_ms_, what.peer);
        } else if constexpr (std::is_same_v<W, std::pair<core::MemberIndex, core::PeerMessage>>) {
          note(where + message_name(what.second) + " from n" + std::to_string(what.first));
          node.on_peer_message(now_ms_, what.first, std::move(what.second));
        }
      },
      e.what);
  drain(e.node);
}

// Carries out a node's effects: messages into the network, storage against its disk, replies recorded.
void Cluster::drain(size_t i) {
  for (auto& effect : nodes_[i]->take_effects()) {
    if (auto* s = std::get_if<core::SendPeer>(&effect)) {
      send(i, *s);
    } else if (auto* reply = std::get_if<core::ReplyClient>(&effect)) {
      static const char* outcomes[] = {"ok", "not_found", "bad_request", "too_many_siblings", "unavailable",
                                       "internal_error"};
      note("n" + std::to_string(i) + " reply client#" + std::to_string(reply->client) + " " +
           outcomes[static_cast<int>(reply->response.outcome)]);
      responses_[reply->client] = std::move(reply->response);
    } else if (auto* scan = std::get_if<core::ScanSegments>(&effect)) {
      core::ScanDone done{scan->op, Status::ok(), {}};
      for (const auto& [key, bytes] : disk_view(i, scan->partition)) {
        if (std::binary_search(scan->segments.begin(), scan->segments.end(), core::segment_of(key.second))) {
          done.entries.emplace_back(key.second, bytes);
        }
      }
      push(now_ms_ + slow_ms_[i], i, std::move(done));
    } else if (auto* floor = std::get_if<core::SaveDotFloor>(&effect)) {
      disks_[i].dot_floor = floor->floor;
    } else if (auto* warn = std::get_if<core::Warn>(&effect)) {
      note("n" + std::to_string(i) + " warns: " + warn->message);
    } else if (auto* save = std::get_if<core::SaveClusterState>(&effect)) {
      if (save->state.ring_version > ring_version_) {
        ring_version_ = save->state.ring_version;
        ring_ = core::ring_of(save->state);
        note("n" + std::to_string(i) + " ring version " + std::to_string(ring_version_) + ": " +
             std::to_string(ring_.members().size()) + " members");
      }
      disks_[i].cluster_state = std::move(save->state);
    } else {
      execute(i, std::get<core::StorageOp>(effect));
    }
  }
}

void Cluster::join(size_t node, size_t via) {
  assert(!member_[node] && (node == 0 || member_[node - 1]));
  note("n" + std::to_string(node) + " joins via n" + std::to_string(via));
  joining_via_[node] = via;
  next_join_poll_ms_ = now_ms_;
  poll_joins();
}

void Cluster::poll_joins() {
  if (now_ms_ < next_join_poll_ms_) return;
  next_join_poll_ms_ = now_ms_ + kJoinPollMs;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (!joining_via_[i] || !up_[*joining_via_[i]] || group_[i] != group_[*joining_via_[i]]) continue;
    size_t via = *joining_via_[i];
    const Status asked = nodes_[via]->on_join_request(addresses_[i], ids_[i]);
    core::ClusterState state = nodes_[via]->cluster_state();
    drain(via);
    if (!asked.is_ok()) continue;  // ids are drawn distinct: only a test's own setup gets here
    if (state.members.size() <= i || state.members[i] != addresses_[i]) continue;
    joining_via_[i].reset();
    disks_[i].cluster_state = std::move(state);
    nodes_[i] = make_node(i);
    up_[i] = member_[i] = true;
    note("n" + std::to_string(i) + " joined");
    connect(i);  // members that knew it (and failed to reach it before it ran) reconnect too
  }
}

void Cluster::connect(size_t node) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i == node || !up_[i]) continue;
    nodes_[i]->on_peer_up(static_cast<core::MemberIndex>(node));
    drain(i);
    nodes_[node]->on_peer_up(static_cast<core::MemberIndex>(i));
  }
  drain(node);
}

void Cluster::send(size_t from, const core::SendPeer& s) {
  const auto& net = options_.network;
  if (send_observer_) send_observer_(from, s.to, s.message);
  if (!up_[s.to]) {  // a crashed node refuses connections: the sender learns at once
    push(now_ms_ + net.latency_ms, from, PeerDown{s.to, incarnation_[s.to]});
    return;
  }
  if (group_[from] != group_[s.to] || rng_.chance(net.loss)) return;
  int copies = rng_.chance(net.duplicate) ? 2 : 1;
  for (int c = 0; c < copies; ++c) {
    uint64_t delay = rng_.long_tail(net.latency_ms, net.latency_max_ms) + slow_ms_[from] + slow_ms_[s.to];
    push(now_ms_ + delay, s.to, std::make_pair(static_cast<core::MemberIndex>(from), s.message));
  }
}

std::map<std::pair<uint32_t, std::string>, std::string> Cluster::disk_view(size_t node,
                                                                          std::optional<uint32_t> partition) const {
  std::map<std::pair<uint32_t, std::string>, std::string> view;
  auto overlay = [&](const auto& layer, auto&& put) {
    auto from = partition ? layer.lower_bound({*partition, ""}) : layer.begin();
    auto to = partition ? layer.lower_bound({*partition + 1, ""}) : layer.end();
    for (auto it = from; it != to; ++it) put(it->first, it->second);
  };
  overlay(disks_[node].synced, [&](const auto& key, const std::string& bytes) { view[key] = bytes; });
  overlay(disks_[node].unsynced, [&](const auto& key, const std::optional<std::string>& bytes) {  // newer
    if (bytes) {
      view[key] = *bytes;
    } else {
      view.erase(key);
    }
  });
  return view;
}

std::optional<std::string> Cluster::read_disk(size_t node, const std::pair<uint32_t, std::string>& key) const {
  const auto& disk = disks_[node];
  if (auto it = disk.unsynced.find(key); it != disk.unsynced.end()) return it->second;
  if (auto it = disk.synced.find(key); it != disk.synced.end()) return it->second;
  return std::nullopt;
}

void Cluster::write_disk(size_t node, const std::pair<uint32_t, std::string>& key, std::optional<std::string> bytes) {
  auto& disk = disks_[node];
  if (options_.sync == DiskSync::none || !bytes) {
    disk.unsynced[key] = std::move(bytes);
  } else {
    write_back(node);  // a synced write to the log makes everything written before it durable too
    disk.synced[key] = std::move(*bytes);
  }
}

void Cluster::write_back(size_t node) {
  auto& disk = disks_[node];
  for (auto& [k, v] : disk.unsynced) {
    if (v) {
      disk.synced[k] = std::move(*v);
    } else {
      disk.synced.erase(k);
    }
  }
  disk.unsynced.clear();
}

// What the runtime does at start: the node learns the hints its disk holds.
const std::string& Cluster::actor_base(size_t node) const {
  // The mutation: ids that collide, as every node defaulting to node_5001 on its own host did,
  // with nothing to refuse them.
  return options_.buggy_ids ? ids_[0] : ids_[node];
}

uint64_t Cluster::dot_collisions() const {
  uint64_t total = 0;
  for (const auto& node : nodes_) total += node ? node->counters().dot_collisions : 0;
  return total;
}

size_t Cluster::hints_on_disk(size_t node) const { return disk_view(node, core::kHintPartition).size(); }

void Cluster::recover_hints(size_t node) {
  std::vector<std::string> keys;
  const auto& disk = disks_[node];
  for (auto it = disk.synced.lower_bound({core::kHintPartition, ""}); it != disk.synced.end(); ++it) {
    if (!disk.unsynced.contains(it->first)) keys.push_back(it->first.second);
  }
  for (auto it = disk.unsynced.lower_bound({core::kHintPartition, ""}); it != disk.unsynced.end(); ++it) {
    if (it->second) keys.push_back(it->first.second);
  }
  nodes_[node]->on_hints_recovered(keys);
}

void Cluster::execute(size_t i, const core::StorageOp& op) {
  auto key = std::make_pair(op.partition, op.key);
  auto current = read_disk(i, key);
  core::StorageDone done{op.op, Status::ok(), current};
  const auto* removal = op.update ? std::get_if<core::RemoveKey>(&*op.update) : nullptr;
  if (removal && removal->if_hash) {
    done.previous_hash = current ? core::object_hash(*current) : 0;
    if (current && done.previous_hash == *removal->if_hash) {
      reap(i, op.key, *current);
      write_disk(i, key, std::nullopt);
      done.object.reset();
    }
  } else if (removal) {
    write_disk(i, key, std::nullopt);
    done.object.reset();
  } else if (op.update && options_.buggy_handoff && op.partition == core::kHintPartition) {
    done.object = std::get<core::MergeWrite>(*op.update).object;  // acknowledged, never kept
  } else if (op.update) {
    done.previous_hash = current ? core::object_hash(*current) : 0;
    std::optional<std::string_view> view;
    if (current) view = *current;
    const core::StorageUpdate* update = &*op.update;
    core::StorageUpdate floorless;
    if (options_.buggy_dot_floor && std::holds_alternative<core::CoordinatorWrite>(*update)) {
      floorless = *update;
      std::get<core::CoordinatorWrite>(floorless).dot_floor = 0;
      update = &floorless;
    }
    auto next = core::apply_update(view, *update, actors_[i], options_.node.siblings_max);
    if (!next.is_ok()) {
      done.status = next.status();
      done.object.reset();
    } else if (next->bytes) {
      done.dot_collision = next->dot_collision;
      std::string bytes = std::move(*next->bytes);
      if (options_.buggy_merge && std::holds_alternative<core::MergeWrite>(*op.update)) bytes = drop_a_sibling(bytes);
      write_disk(i, key, bytes);
      if (std::holds_alternative<core::CoordinatorWrite>(*op.update)) {
        // The new sibling carries the coordinator's newest dot.
        auto object = *core::decode_object(bytes);
        core::Dot dot{actors_[i], object.context().get(actors_[i])};
        for (const auto& s : object.siblings()) {
          if (s.dot != dot) continue;
          note("n" + std::to_string(i) + " stored " + op.key + " (" + dot.node + "," + std::to_string(dot.counter) +
               ") " + (s.tombstone ? "tombstone" : s.value));
          stored_writes_.push_back(StoredWrite{op.key, dot, s.context, s.tombstone, s.value, now_ms_});
        }
      }
      if (options_.buggy_reaping && op.partition < ring_.partitions() && core::deleted_object_counter(bytes)) {
        reap(i, op.key, bytes);  // at once, asking no one
        write_disk(i, key, std::nullopt);
        done.object.reset();
      } else {
        done.object = std::move(bytes);
      }
    }
  }
  push(now_ms_ + slow_ms_[i], i, std::move(done));
}

void Cluster::reap(size_t i, const std::string& key, const std::string& tombstone) {
  auto object = *core::decode_object(tombstone);
  note("n" + std::to_string(i) + " reaped " + key);
  reaped_.push_back(ReapedTombstone{key, object.context(), now_ms_});
}

void Cluster::crash(size_t node) {
  note("crash n" + std::to_string(node));
  crashes_.push_back(Crash{node, now_ms_});
  up_[node] = false;
  ++incarnation_[node];
  nodes_[node].reset();  // volatile state is gone
  disks_[node].unsynced.clear();  // and so is what the OS had not written back
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (up_[i]) {
      push(now_ms_ + options_.network.latency_ms, i, PeerDown{static_cast<core::MemberIndex>(node), incarnation_[node]});
    }
  }
}

void Cluster::restart(size_t node) {
  assert(member_[node]);
  note("restart n" + std::to_string(node));
  nodes_[node] = make_node(node);
  recover_hints(node);
  up_[node] = true;
  ++incarnation_[node];  // a new life: notices about the crashed one are stale
  // As the runtime does (runtime/actor_epoch.h): a crash that may have lost unsynced writes makes
  // the node version new writes under a new actor id, so that no dot is made twice.
  if (options_.sync == DiskSync::none && !options_.buggy_actor_epochs) {
    actors_[node] = actor_base(node) + "~" + std::to_string(++epochs_[node]);
  }
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
  const std::pair<uint32_t, std::string> at{ring_.partition_of_key(key), key};
  disks_[node].synced.erase(at);
  disks_[node].unsynced.erase(at);
}

std::optional<core::DvvSet> Cluster::stored(size_t node, const std::string& key) const {
  auto bytes = read_disk(node, {ring_.partition_of_key(key), key});
  if (!bytes) return std::nullopt;
  return *core::decode_object(*bytes);
}

}  // namespace md::sim
