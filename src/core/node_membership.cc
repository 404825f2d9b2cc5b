// Membership by gossip: push-pull of the whole cluster state with one random reachable member per
// interval (core/cluster_state.h says how states merge). A state is small (members, node ids and
// one index per partition), so sending it whole keeps the protocol simple; a change reaches every
// node in O(log n) rounds (measured in tests/sim/membership_test.cc, docs/design.md).
#include <algorithm>

#include "core/node.h"

namespace md::core {
namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

void Node::gossip_tick(uint64_t now_ms) {
  if (now_ms < next_gossip_ms_) return;
  if (self_ == claimant(state_) && !joiners(state_).empty()) state_changed();  // e.g. announced before a restart
  next_gossip_ms_ = now_ms + options_.gossip_interval_ms;
  std::vector<MemberIndex> candidates;
  for (MemberIndex m = 0; m < ring_.members().size(); ++m) {
    if (m != self_ && peer_up(m)) candidates.push_back(m);
  }
  if (candidates.empty()) return;
  ++counters_.gossip_rounds;
  send(candidates[splitmix64(gossip_rng_) % candidates.size()], Gossip{state_, true});
}

void Node::on_gossip(MemberIndex from, Gossip gossip) {
  if (gossip.state.cluster_id != state_.cluster_id || !validate(gossip.state).is_ok() ||
      gossip.state.owners.size() != state_.owners.size()) {
    ++counters_.gossip_refused;
    return;
  }
  auto changed = merge(state_, gossip.state);
  if (!changed.is_ok()) {
    // Our own id under another address in the sender's view means another node claims it.
    refused_duplicate_id("gossip from " + ring_.members()[from] + " refused: " + changed.status().message(),
                         other_holder(gossip.state, ring_.members()[self_], node_id_), node_id_);
    return;
  }
  if (gossip.reply && state_ != gossip.state) send(from, Gossip{state_, false});
  if (*changed) state_changed();
}

Status Node::on_join_request(const std::string& address, const std::string& node_id) {
  // Only a node that knows every member's id can refuse a joiner that takes one: taken in by a
  // node that did not know, it would split the cluster's states (no merge can hold one id twice).
  for (const auto& member : state_.members) {
    if (!state_.node_ids.contains(member)) {
      return Status::unavailable("this node does not know the node id of member " + member +
                                 " yet (gossip brings it once that member is up); ask again");
    }
  }
  auto changed = announce(state_, address, node_id);
  if (!changed.is_ok()) {
    refused_duplicate_id("join of " + address + " refused: " + changed.status().message(), std::string(), node_id);
    return changed.status();
  }
  if (*changed) state_changed();
  return Status::ok();
}

void Node::refused_duplicate_id(const std::string& message, const std::string& holder, const std::string& id) {
  ++counters_.duplicate_ids_refused;
  if (!holder.empty() && id == node_id_ && id_conflict_.empty()) {
    id_conflict_ = holder;
    effects_.push_back(Warn{"this node's id " + node_id_ + " is also claimed by " + holder +
                            ": it versions no writes until one of them restarts under a new id"});
  }
  if (warned_.insert(message).second) effects_.push_back(Warn{message});
}

void Node::state_changed() {
  if (self_ == claimant(state_)) admit_joiners(state_);
  effects_.push_back(SaveClusterState{state_});
  if (state_.ring_version == ring_version_) return;
  ring_version_ = state_.ring_version;
  ring_ = ring_of(state_);
  ++counters_.ring_changes;
  const size_t k = ring_.members().size();
  reachable_.resize(k, true);
  detectors_.resize(k, PhiAccrualDetector(options_.failure_detector));
  suspected_.resize(k, false);
  peer_ids_.resize(k);
  pending_hints_.resize(k, 0);
  anti_entropy_.on_ring_changed();
  reaper_.on_ring_changed();
}

}  // namespace md::core
