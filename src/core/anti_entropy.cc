#include "core/anti_entropy.h"

#include <algorithm>

namespace md::core {

AntiEntropy::AntiEntropy(const Ring& ring, MemberIndex self, uint32_t n, AntiEntropyOptions options)
    : self_(self), n_(n), options_(options) {
  plan(ring);
}

void AntiEntropy::on_ring_changed(const Ring& ring) { plan(ring); }

void AntiEntropy::mark_held(uint32_t partition) {
  if (held_.insert(partition).second && !replicated_[partition]) replan_ = true;
}

void AntiEntropy::plan(const Ring& ring) {
  replan_ = false;
  schedule_.clear();
  replicated_.assign(ring.partitions(), false);
  const size_t n = std::min<size_t>(n_, ring.serving());
  for (uint32_t p = 0; p < ring.partitions(); ++p) {
    auto replicas = ring.preference_list(p, n);
    replicated_[p] = std::find(replicas.begin(), replicas.end(), self_) != replicas.end();
    if (!replicated_[p] && !held_.contains(p)) continue;
    for (MemberIndex peer : replicas) {
      if (peer != self_) schedule_.emplace_back(p, peer);
    }
  }
  // Interleave the peers (p0-a, p0-b, p1-a, ...) as built; start at a node-specific place so that
  // all nodes do not compare the same partition at the same time.
  cursor_ = schedule_.empty() ? 0 : (static_cast<size_t>(self_) * 7919) % schedule_.size();
}

void AntiEntropy::load(uint32_t partition, std::string_view key, std::string_view object) {
  if (!known(partition)) return;  // not data: the hint store
  trees_[partition].update(key, 0, object_hash(object));
  mark_held(partition);
}

void AntiEntropy::changed(uint32_t partition, std::string_view key, uint64_t before, uint64_t after) {
  if (before == after || !known(partition)) return;
  trees_[partition].update(key, before, after);
  if (after != 0) mark_held(partition);
}

const MerkleTree* AntiEntropy::tree(uint32_t partition) const {
  auto it = trees_.find(partition);
  return it == trees_.end() ? nullptr : &it->second;
}

std::vector<MemberIndex> AntiEntropy::exchange_peers() const {
  std::vector<MemberIndex> peers;
  if (current_) peers.push_back(current_->peer);
  for (const auto& [op, purpose] : scans_) {
    std::visit(
        [&](const auto& p) {
          using P = std::decay_t<decltype(p)>;
          if constexpr (std::is_same_v<P, Compare>) {
            peers.push_back(p.initiator);
          } else {
            peers.push_back(p.peer);
          }
        },
        purpose);
  }
  return peers;
}

void AntiEntropy::on_tick(Outbox& out, const Ring& ring, uint64_t now_ms, const std::vector<bool>& peer_up) {
  if (replan_) plan(ring);
  if (current_ && now_ms < current_->deadline_ms) return;
  current_.reset();
  // An admin's repair goes first, and also when anti-entropy is off or not due yet.
  while (!urgent_.empty()) {
    auto [partition, peer] = urgent_.front();
    urgent_.pop_front();
    if (known(partition) && peer_up[peer]) return start(out, now_ms, partition, peer);
  }
  if (options_.interval_ms == 0 || schedule_.empty() || now_ms < next_start_ms_) return;
  next_start_ms_ = now_ms + options_.interval_ms;
  for (size_t tried = 0; tried < schedule_.size(); ++tried) {
    auto [partition, peer] = schedule_[cursor_];
    cursor_ = (cursor_ + 1) % schedule_.size();
    if (peer_up[peer]) return start(out, now_ms, partition, peer);
  }
}

void AntiEntropy::start(Outbox& out, uint64_t now_ms, uint32_t partition, MemberIndex peer) {
  current_ = Exchange{out.next_id(), partition, peer, now_ms + options_.exchange_timeout_ms};
  ++counters_.exchanges;
  const auto& inner = trees_[partition].inner();
  out.send(peer, AaeTree{current_->id, partition, std::vector<uint64_t>(inner.begin(), inner.end())});
}

size_t AntiEntropy::repair(std::optional<uint32_t> partition) {
  size_t queued = 0;
  for (const auto& [p, peer] : schedule_) {
    if (partition && p != *partition) continue;
    urgent_.emplace_back(p, peer);
    ++queued;
  }
  return queued;
}

void AntiEntropy::on_tree(Outbox& out, MemberIndex from, const AaeTree& m) {
  if (m.inner.size() != kFanout || !known(m.partition)) return;  // not a tree of our shape
  const MerkleTree& mine = trees_[m.partition];
  AaeSegments reply{m.id, m.partition, {}, {}};
  for (uint32_t i = 0; i < kFanout; ++i) {
    if (mine.inner()[i] == m.inner[i]) continue;
    reply.inner_nodes.push_back(i);
    auto segments = mine.segments_of(i);
    reply.segments.insert(reply.segments.end(), segments.begin(), segments.end());
  }
  out.send(from, std::move(reply));
}

void AntiEntropy::on_segments(Outbox& out, MemberIndex from, const AaeSegments& m) {
  if (!current_ || current_->id != m.id || current_->peer != from || current_->partition != m.partition) {
    return;  // late or foreign
  }
  if (m.segments.size() != m.inner_nodes.size() * kSegmentsPerInner) return;
  const MerkleTree& mine = trees_[m.partition];
  std::vector<uint32_t> differing;
  for (size_t n = 0; n < m.inner_nodes.size(); ++n) {
    if (m.inner_nodes[n] >= kFanout) return;
    auto segments = mine.segments_of(m.inner_nodes[n]);
    for (uint32_t s = 0; s < kSegmentsPerInner; ++s) {
      if (segments[s] != m.segments[n * kSegmentsPerInner + s]) {
        differing.push_back(m.inner_nodes[n] * kSegmentsPerInner + s);
      }
    }
  }
  const uint32_t partition = current_->partition;
  current_.reset();  // our part ends with the keys; the peer pushes and pulls
  if (differing.empty()) {
    ++counters_.exchanges_in_sync;
    return;
  }
  counters_.segments_differing += differing.size();
  std::sort(differing.begin(), differing.end());
  scan(out, partition, differing, SendKeys{m.id, from, partition, differing});
}

void AntiEntropy::on_keys(Outbox& out, MemberIndex from, AaeKeys m) {
  if (m.keys.size() != m.hashes.size() || !std::is_sorted(m.segments.begin(), m.segments.end()) ||
      !known(m.partition)) {
    return;
  }
  auto segments = m.segments;
  scan(out, m.partition, std::move(segments), Compare{from, std::move(m)});
}

void AntiEntropy::on_pull(Outbox& out, MemberIndex from, AaePull m) {
  if (!known(m.partition)) return;
  std::vector<uint32_t> segments;
  for (const auto& k : m.keys) segments.push_back(segment_of(k));
  std::sort(segments.begin(), segments.end());
  segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
  scan(out, m.partition, std::move(segments), Serve{from, std::set<std::string>(m.keys.begin(), m.keys.end())});
}

void AntiEntropy::on_peer_down(MemberIndex peer) {
  if (current_ && current_->peer == peer) current_.reset();
}

void AntiEntropy::on_scan_done(Outbox& out, const ScanDone& done) {
  auto it = scans_.find(done.op);
  if (it == scans_.end()) return;
  Purpose purpose = std::move(it->second);
  scans_.erase(it);
  if (!done.status.is_ok()) return;  // a later exchange tries again
  if (auto* p = std::get_if<SendKeys>(&purpose)) {
    AaeKeys keys{p->id, p->partition, std::move(p->segments), {}, {}};
    for (const auto& [key, object] : done.entries) {
      keys.keys.push_back(key);
      keys.hashes.push_back(object_hash(object));
    }
    out.send(p->peer, std::move(keys));
  } else if (auto* c = std::get_if<Compare>(&purpose)) {
    std::unordered_map<std::string_view, uint64_t> theirs, mine;
    for (size_t i = 0; i < c->theirs.keys.size(); ++i) theirs.emplace(c->theirs.keys[i], c->theirs.hashes[i]);
    for (const auto& [key, object] : done.entries) {
      const uint64_t hash = object_hash(object);
      mine.emplace(key, hash);
      auto t = theirs.find(key);
      if (t == theirs.end() || t->second != hash) send_object(out, c->initiator, key, object);
    }
    AaePull pull{c->theirs.partition, {}};
    for (const auto& [key, hash] : theirs) {
      auto m = mine.find(key);
      if (m == mine.end() || m->second != hash) pull.keys.emplace_back(key);
    }
    std::sort(pull.keys.begin(), pull.keys.end());  // deterministic, whatever the map's order
    if (!pull.keys.empty()) out.send(c->initiator, std::move(pull));
  } else {
    auto& s = std::get<Serve>(purpose);
    for (const auto& [key, object] : done.entries) {
      if (s.keys.count(key)) send_object(out, s.peer, key, object);
    }
  }
}

void AntiEntropy::scan(Outbox& out, uint32_t partition, std::vector<uint32_t> segments, Purpose purpose) {
  RequestId op = out.next_id();
  scans_.emplace(op, std::move(purpose));
  out.push(ScanSegments{op, partition, std::move(segments)});
}

void AntiEntropy::send_object(Outbox& out, MemberIndex to, const std::string& key, const std::string& object) {
  ++counters_.objects_sent;
  out.send(to, ReplicaWrite{0, key, object, false});
}

}  // namespace md::core
