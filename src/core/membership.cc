#include "core/membership.h"

#include <cassert>

namespace md::core {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

Membership::Membership(Outbox& out, ClusterState state, MemberIndex self, std::string node_id,
                       const std::string& zone, uint64_t gossip_interval_ms, uint64_t seed, uint32_t n)
    : state_(std::move(state)),
      ring_version_(state_.ring_version),
      ring_(ring_of(state_)),
      next_ring_(next_ring_of(state_)),
      n_(n),
      self_(self),
      node_id_(std::move(node_id)),
      gossip_interval_ms_(gossip_interval_ms),
      gossip_rng_(seed) {
  assert(self_ < ring_.members().size());
  const std::string& address = ring_.members()[self_];
  if (auto announced = announce(state_, address, node_id_, zone); !announced.is_ok()) {
    refused_duplicate_id(out, announced.status().message(), other_holder(state_, address, node_id_), node_id_);
  } else if (*announced) {
    out.push(SaveClusterState{state_});  // gossip spreads it
  }
}

void Membership::on_tick(Outbox& out, const Peers& peers, uint64_t now_ms) {
  // The claimant chooses transfer sources among the members it can reach: not those whose
  // connection is down (a suspect one, connected but silent, is paused rather than gone: its
  // transfers wait for it). Kept fresh every tick, for the plans that changes make meanwhile; only
  // the claimant plans. Until the peers know every member (the ring just grew), all count as up.
  up_.clear();
  if (self_ == claimant(state_) && peers.size() == state_.members.size()) {
    for (MemberIndex m = 0; m < state_.members.size(); ++m) up_.push_back(m == self_ || peers.status(m) != PeerStatus::down);
  }
  if (now_ms < next_gossip_ms_) return;
  if (self_ == claimant(state_) && ring_behind(state_, n_, up_)) changed(out);  // e.g. a source went down
  next_gossip_ms_ = now_ms + gossip_interval_ms_;
  std::vector<MemberIndex> candidates;
  for (MemberIndex m = 0; m < ring_.members().size(); ++m) {
    if (m != self_ && peers.up(m) && !ring_.departed(m)) candidates.push_back(m);
  }
  if (candidates.empty()) return;
  ++counters_.gossip_rounds;
  out.send(candidates[splitmix64(gossip_rng_) % candidates.size()], Gossip{state_, true});
}

void Membership::on_gossip(Outbox& out, MemberIndex from, Gossip gossip) {
  if (gossip.state.cluster_id != state_.cluster_id || !validate(gossip.state).is_ok() ||
      gossip.state.owners.size() != state_.owners.size()) {
    ++counters_.gossip_refused;
    return;
  }
  auto merged = merge(state_, gossip.state);
  if (!merged.is_ok()) {
    // Our own id under another address in the sender's view means another node claims it.
    refused_duplicate_id(out, "gossip from " + ring_.members()[from] + " refused: " + merged.status().message(),
                         other_holder(gossip.state, ring_.members()[self_], node_id_), node_id_);
    return;
  }
  if (gossip.reply && state_ != gossip.state) out.send(from, Gossip{state_, false});
  if (*merged) changed(out);
}

void Membership::on_hello(Outbox& out, MemberIndex from, const std::string& node_id) {
  if (node_id != node_id_) return;
  refused_duplicate_id(out,
                       "node id " + node_id_ + " is claimed by both " + ring_.members()[self_] + " and " +
                           ring_.members()[from] + "; a node id must name one node",
                       ring_.members()[from], node_id_);
}

Status Membership::on_join_request(Outbox& out, const std::string& address, const std::string& node_id,
                                   const std::string& zone) {
  // Only a node that knows every member's id can refuse a joiner that takes one: taken in by a
  // node that did not know, it would split the cluster's states (no merge can hold one id twice).
  for (const auto& member : state_.members) {
    if (!state_.node_ids.contains(member)) {
      return Status::unavailable("this node does not know the node id of member " + member +
                                 " yet (gossip brings it once that member is up); ask again");
    }
  }
  auto announced = announce(state_, address, node_id, zone);
  if (!announced.is_ok()) {
    refused_duplicate_id(out, "join of " + address + " refused: " + announced.status().message(), std::string(),
                         node_id);
    return announced.status();
  }
  if (*announced) changed(out);
  return Status::ok();
}

Status Membership::change_user(Outbox& out, const std::string& name, User user) {
  auto it = state_.users.find(name);
  user.revision = (it == state_.users.end() ? 0 : it->second.revision) + 1;
  Users change{{name, std::move(user)}};
  if (auto valid = validate(change); !valid.is_ok()) return valid;
  merge_users(state_.users, change);
  changed(out);
  return Status::ok();
}

Status Membership::request_departure(Outbox& out, const std::string& name, const Departure& departure) {
  if (auto allowed = check_departure(state_, name, departure); !allowed.is_ok()) return allowed;
  state_.departures[name] = departure;
  changed(out);
  return Status::ok();
}

void Membership::transfer_progress(Outbox& out, const Transfer& progress) {
  if (!record_transfer(state_, progress)) return;
  changed(out);
  // The claimant waits for every transfer before the next owners serve: a finished one goes to it
  // straight away rather than at gossip's pace.
  if (progress.done && self_ != claimant(state_)) out.send(claimant(state_), Gossip{state_, true});
}

void Membership::refused_duplicate_id(Outbox& out, const std::string& message, const std::string& holder,
                                      const std::string& id) {
  ++counters_.duplicate_ids_refused;
  if (!holder.empty() && id == node_id_ && id_conflict_.empty()) {
    id_conflict_ = holder;
    out.push(Warn{"this node's id " + node_id_ + " is also claimed by " + holder +
                  ": it versions no writes until one of them restarts under a new id"});
  }
  if (warned_.insert(message).second) out.push(Warn{message});
}

void Membership::changed(Outbox& out) {
  if (self_ == claimant(state_)) advance_ring(state_, n_, up_.size() == state_.members.size() ? up_ : std::vector<bool>{});
  out.push(SaveClusterState{state_});
  if (state_.ring_version == ring_version_) return;
  ring_version_ = state_.ring_version;
  ring_ = ring_of(state_);
  next_ring_ = next_ring_of(state_);
  ++counters_.ring_changes;
}

}  // namespace md::core
