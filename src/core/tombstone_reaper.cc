#include "core/tombstone_reaper.h"

#include <algorithm>
#include <iterator>

#include "core/object_codec.h"

namespace md::core {

TombstoneReaper::TombstoneReaper(MemberIndex self, TombstoneReaperOptions options)
    : self_(self), options_(options) {}

void TombstoneReaper::stored(uint32_t partition, std::string_view key, std::optional<std::string_view> object,
                             uint64_t hash, uint64_t now_ms) {
  if (partition >= kPartitionsMax) return;  // the hint store (kHintPartition), not data
  auto counter = object ? deleted_object_counter(*object) : std::nullopt;
  if (!counter) {
    auto held = tombstones_.find(partition);
    if (held == tombstones_.end()) return;
    if (auto it = held->second.find(key); it != held->second.end()) held->second.erase(it);
    if (held->second.empty()) tombstones_.erase(held);
    return;
  }
  auto& keys = tombstones_[partition];
  auto it = keys.find(key);
  if (it == keys.end()) {
    keys.emplace(std::string(key), Tombstone{hash, *counter, now_ms});
  } else {  // still deleted: a merged tombstone only covers more, and keeps its time
    it->second.hash = hash;
    it->second.counter = *counter;
  }
}

const TombstoneReaper::Tombstone* TombstoneReaper::find(uint32_t partition, std::string_view key) const {
  auto held = tombstones_.find(partition);
  if (held == tombstones_.end()) return nullptr;
  auto it = held->second.find(key);
  return it == held->second.end() ? nullptr : &it->second;
}

bool TombstoneReaper::ripe(uint32_t partition, std::string_view key, uint64_t hash, uint64_t now_ms) const {
  const Tombstone* t = find(partition, key);
  return enabled() && t != nullptr && t->hash == hash && now_ms - t->since_ms >= options_.grace_ms;
}

std::optional<uint64_t> TombstoneReaper::counter(uint32_t partition, std::string_view key, uint64_t hash) const {
  const Tombstone* t = find(partition, key);
  if (t == nullptr || t->hash != hash) return std::nullopt;
  return t->counter;
}

bool TombstoneReaper::leads(const Ring& ring, uint32_t partition) const {
  return ring.preference_list(partition, 1)[0] == self_;
}

size_t TombstoneReaper::tombstones() const {
  size_t n = 0;
  for (const auto& [p, keys] : tombstones_) n += keys.size();
  return n;
}

std::optional<ReapCheck> TombstoneReaper::start_round(const Ring& ring, uint64_t now_ms, RequestId id,
                                                      uint64_t ring_version,
                                                      const std::vector<MemberIndex>& members, uint64_t deadline_ms,
                                                      const std::function<bool(std::string_view key)>& blocked) {
  if (!enabled() || round_ || now_ms < next_round_ms_ || tombstones_.empty()) return std::nullopt;
  next_round_ms_ = now_ms + options_.interval_ms;
  const uint32_t partitions = ring.partitions();
  size_t budget = options_.scan_max;
  for (uint32_t step = 0; step < partitions && budget > 0; ++step) {
    const uint32_t p = (cursor_ + step) % partitions;
    auto held = tombstones_.find(p);
    if (held == tombstones_.end() || !leads(ring, p)) continue;
    const Keys& keys = held->second;
    auto resume = resume_after_.find(p);
    auto it = resume == resume_after_.end() ? keys.begin() : keys.upper_bound(resume->second);
    Reap reap{p, {}, {}};
    for (; it != keys.end() && budget > 0 && reap.keys.size() < options_.batch_max; ++it, --budget) {
      const auto& [key, t] = *it;
      if (now_ms - t.since_ms < options_.grace_ms || blocked(key)) continue;
      reap.keys.push_back(key);
      reap.hashes.push_back(t.hash);
    }
    if (it == keys.end()) {
      resume_after_.erase(p);  // the next look starts from the first key again
    } else if (it != keys.begin()) {
      resume_after_[p] = std::prev(it)->first;
    }
    if (reap.keys.empty()) continue;
    cursor_ = (p + 1) % partitions;
    ReapCheck check{id, ring_version, p, reap.keys, reap.hashes};
    round_ = Round{id, std::move(reap), std::vector<uint32_t>(check.keys.size(), 0),
                   std::set<MemberIndex>(members.begin(), members.end()), members.size(), deadline_ms};
    return check;
  }
  return std::nullopt;
}

std::optional<Reap> TombstoneReaper::on_reply(MemberIndex from, const ReapCheckReply& reply) {
  if (!round_ || round_->id != reply.id || !round_->waiting.contains(from)) return std::nullopt;
  const size_t n = round_->votes.size();
  if (!std::is_sorted(reply.ready.begin(), reply.ready.end()) ||
      std::adjacent_find(reply.ready.begin(), reply.ready.end()) != reply.ready.end() ||
      (!reply.ready.empty() && reply.ready.back() >= n)) {
    round_.reset();  // not an answer to this check: the next round asks again
    return std::nullopt;
  }
  for (uint32_t i : reply.ready) ++round_->votes[i];
  round_->waiting.erase(from);
  return settle();
}

std::optional<Reap> TombstoneReaper::settle() {
  if (!round_ || !round_->waiting.empty()) return std::nullopt;
  Round round = std::move(*round_);
  round_.reset();
  Reap reap{round.reap.partition, {}, {}};
  for (size_t i = 0; i < round.votes.size(); ++i) {
    if (round.votes[i] != round.members) continue;
    reap.keys.push_back(std::move(round.reap.keys[i]));
    reap.hashes.push_back(round.reap.hashes[i]);
  }
  return reap;
}

void TombstoneReaper::on_peer_down(MemberIndex peer) {
  if (round_ && round_->waiting.contains(peer)) round_.reset();
}

void TombstoneReaper::on_tick(uint64_t now_ms) {
  if (round_ && now_ms >= round_->deadline_ms) round_.reset();
}

}  // namespace md::core
