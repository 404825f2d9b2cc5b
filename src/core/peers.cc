#include "core/peers.h"

#include <cassert>

namespace md::core {

const char* to_string(PeerStatus status) {
  switch (status) {
    case PeerStatus::up: return "up";
    case PeerStatus::suspect: return "suspect";
    case PeerStatus::down: return "down";
  }
  return "?";
}

Peers::Peers(size_t members, MemberIndex self, const FailureDetectorOptions& options)
    : self_(self), options_(options) {
  assert(self < members);
  resize(members);
}

void Peers::resize(size_t members) {
  reachable_.resize(members, true);
  detectors_.resize(members, PhiAccrualDetector(options_));
  suspected_.resize(members, false);
  ids_.resize(members);
}

PeerStatus Peers::status(MemberIndex peer) const {
  if (peer == self_) return PeerStatus::up;
  if (!reachable_[peer]) return PeerStatus::down;
  return suspected_[peer] ? PeerStatus::suspect : PeerStatus::up;
}

double Peers::phi(MemberIndex peer, uint64_t now_ms) const { return peer == self_ ? 0 : detectors_[peer].phi(now_ms); }

std::vector<bool> Peers::up_others() const {
  std::vector<bool> up(reachable_.size());
  for (MemberIndex m = 0; m < up.size(); ++m) up[m] = m != self_ && this->up(m);
  return up;
}

bool Peers::connected(MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return false;
  reachable_[peer] = true;
  return true;
}

bool Peers::disconnected(MemberIndex peer) {
  if (peer >= reachable_.size() || peer == self_) return false;
  reachable_[peer] = false;
  detectors_[peer].restart();  // heartbeats pause while it reconnects; that pause is not learnt
  suspected_[peer] = false;
  return true;
}

void Peers::heartbeat(MemberIndex peer, uint64_t now_ms) {
  detectors_[peer].heartbeat(now_ms);
  suspected_[peer] = false;
}

void Peers::tick(Outbox& out, uint64_t now_ms) {
  for (MemberIndex peer = 0; peer < reachable_.size(); ++peer) {
    if (peer == self_ || !reachable_[peer]) continue;
    detectors_[peer].expect(now_ms);
    bool suspect = detectors_[peer].phi(now_ms) >= options_.phi_threshold;
    if (suspect && !suspected_[peer]) ++suspicions_;
    suspected_[peer] = suspect;
  }
  if (now_ms < next_heartbeat_ms_) return;
  next_heartbeat_ms_ = now_ms + options_.heartbeat_interval_ms;
  for (MemberIndex peer = 0; peer < reachable_.size(); ++peer) {
    if (peer != self_ && reachable_[peer]) out.send(peer, Heartbeat{});
  }
}

}  // namespace md::core
