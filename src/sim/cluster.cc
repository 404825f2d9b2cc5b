#include "sim/cluster.h"

#include <cassert>

#include "core/object_codec.h"
#include "core/replica.h"

namespace md::sim {

std::string sim_node_id(size_t i) { return "node_" + std::to_string(5001 + i); }

namespace {

core::Ring make_ring(const ClusterOptions& options) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < options.nodes; ++i) ids.push_back(sim_node_id(i));
  auto ring = core::Ring::create(ids, options.partitions);
  assert(ring.is_ok());
  return std::move(ring).value();
}

}  // namespace

Cluster::Cluster(ClusterOptions options)
    : options_(options), ring_(make_ring(options)), up_(options.nodes, true), disks_(options.nodes) {
  for (size_t i = 0; i < options_.nodes; ++i) nodes_.push_back(make_node(i));
}

std::unique_ptr<core::Node> Cluster::make_node(size_t i) const {
  // Ids sort like their indexes ("node_5001" < "node_5002" ...), so member index i is node i.
  return std::make_unique<core::Node>(ring_, static_cast<core::MemberIndex>(i), sim_node_id(i), options_.node);
}

void Cluster::push(uint64_t at_ms, size_t node, decltype(Event::what) what, uint64_t handle) {
  queue_.push(Event{at_ms, seq_++, node, std::move(what), handle});
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
  if (!up_[e.node]) return;  // lost with the crashed node
  auto& node = *nodes_[e.node];
  std::visit(
      [&](auto& what) {
        using W = std::decay_t<decltype(what)>;
        if constexpr (std::is_same_v<W, core::ClientRequest>) {
          node.on_client_request(now_ms_, e.handle, std::move(what));
        } else if constexpr (std::is_same_v<W, core::StorageDone>) {
          node.on_storage_done(now_ms_, std::move(what));
        } else if constexpr (std::is_same_v<W, core::MemberIndex>) {
          node.on_peer_down(now_ms_, what);
        } else {
          node.on_peer_message(now_ms_, what.first, std::move(what.second));
        }
      },
      e.what);
  drain(e.node);
}

// Carries out a node's effects: messages into the queue, storage against its disk, replies recorded.
void Cluster::drain(size_t i) {
  for (auto& effect : nodes_[i]->take_effects()) {
    if (auto* send = std::get_if<core::SendPeer>(&effect)) {
      if (up_[send->to]) {
        push(now_ms_ + options_.latency_ms, send->to, std::make_pair(static_cast<core::MemberIndex>(i), send->message));
      } else {
        push(now_ms_ + options_.latency_ms, i, send->to);  // connection refused
      }
    } else if (auto* reply = std::get_if<core::ReplyClient>(&effect)) {
      responses_[reply->client] = std::move(reply->response);
    } else {
      auto& op = std::get<core::StorageOp>(effect);
      auto& disk = disks_[i];
      auto key = std::make_pair(op.partition, op.key);
      auto found = disk.find(key);
      std::optional<std::string_view> current;
      if (found != disk.end()) current = found->second;
      core::StorageDone done{op.op, Status::ok(), std::nullopt};
      if (!op.update) {
        if (current) done.object = std::string(*current);
      } else {
        auto next = core::apply_update(current, *op.update, nodes_[i]->node_id(), options_.node.siblings_max);
        if (!next.is_ok()) {
          done.status = next.status();
        } else {
          if (*next) disk[key] = **next;
          done.object = disk[key];
        }
      }
      push(now_ms_, i, std::move(done));
    }
  }
}

void Cluster::crash(size_t node) {
  up_[node] = false;
  nodes_[node].reset();  // volatile state is gone; the disk stays
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (up_[i]) push(now_ms_, i, static_cast<core::MemberIndex>(node));  // its connections reset
  }
}

void Cluster::restart(size_t node) {
  nodes_[node] = make_node(node);
  up_[node] = true;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (i == node || !up_[i]) continue;
    nodes_[i]->on_peer_up(static_cast<core::MemberIndex>(node));
    drain(i);
    nodes_[node]->on_peer_up(static_cast<core::MemberIndex>(i));
  }
  drain(node);
}

std::optional<core::DvvSet> Cluster::stored(size_t node, const std::string& key) const {
  auto it = disks_[node].find({ring_.partition_of_key(key), key});
  if (it == disks_[node].end()) return std::nullopt;
  return *core::decode_object(it->second);
}

}  // namespace md::sim
