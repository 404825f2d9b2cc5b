#include "sim/checker.h"

#include <algorithm>
#include <map>

namespace md::sim {
namespace {

std::string describe(const core::Dot& dot) { return "(" + dot.node + "," + std::to_string(dot.counter) + ")"; }

}  // namespace

core::VersionVector reaped_context(const std::vector<ReapedTombstone>& reaped, const std::string& key,
                                   uint64_t before_ms) {
  core::VersionVector context;
  for (const auto& r : reaped) {
    if (r.key == key && r.at_ms < before_ms) context.merge(r.context);
  }
  return context;
}

core::DvvSet unless_reaped(core::DvvSet object, const core::VersionVector& reaped) {
  if (!object.empty() && object.deleted() && reaped.descends(object.context())) return core::DvvSet();
  return object;
}

std::vector<std::string> check_history(const History& history, const std::vector<StoredWrite>& stored,
                                       const FinalState& final_state, bool synced_disks) {
  std::vector<std::string> violations;
  // duplicated_write: every write's value is unique, so two dots with one value are one client
  // request coordinated twice (a retry after the first coordinator may have stored it).
  std::map<std::string, const StoredWrite*> by_value;
  for (const auto& w : stored) {
    if (w.tombstone) continue;
    auto [it, added] = by_value.emplace(w.value, &w);
    if (!added && it->second->dot != w.dot) {
      violations.push_back("duplicated_write: " + w.key + " " + w.value + " was stored as " + describe(it->second->dot) +
                           " at t=" + std::to_string(it->second->at_ms) + " and again as " + describe(w.dot) +
                           " at t=" + std::to_string(w.at_ms));
    }
    it->second = &w;
  }
  auto final_of = [&](const std::string& key) -> const core::DvvSet& {
    static const core::DvvSet empty;
    auto it = final_state.merged.find(key);
    return it == final_state.merged.end() ? empty : it->second;
  };
  // A key's history: what its replicas hold now and what reaped tombstones had seen.
  std::map<std::string, core::VersionVector> history_of;
  for (const auto& w : stored) {
    if (history_of.contains(w.key)) continue;
    auto context = reaped_context(final_state.reaped, w.key);
    context.merge(final_of(w.key).context());
    history_of.emplace(w.key, std::move(context));
  }
  // The write that overwrote `w`: a write that took effect (its dot reached the key's history)
  // and whose context covered w's dot.
  auto overwriter = [&](const StoredWrite& w) -> const StoredWrite* {
    const auto& context = history_of.at(w.key);
    for (const auto& other : stored) {
      if (other.key == w.key && other.dot != w.dot && other.context.covers(w.dot) && context.covers(other.dot)) {
        return &other;
      }
    }
    return nullptr;
  };
  // By contents too: a dot made twice (two coordinators under one id) names two writes.
  auto present = [&](const StoredWrite& w) {
    for (const auto& s : final_of(w.key).siblings()) {
      if (s.dot == w.dot && s.tombstone == w.tombstone && s.value == w.value) return true;
    }
    return false;
  };

  // lost_write. Without synced disks an acknowledged write may vanish in a crash, by policy.
  for (const auto& op : history) {
    if (!synced_disks) break;
    bool is_write = op.kind == OpKind::write || op.kind == OpKind::blind_write;
    if (!is_write || op.outcome != core::Outcome::ok) continue;
    auto it = by_value.find(op.value);
    if (it == by_value.end()) {
      violations.push_back("lost_write: acknowledged write " + op.value + " of " + op.key + " never reached a disk");
    } else if (!present(*it->second) && overwriter(*it->second) == nullptr) {
      violations.push_back("lost_write: acknowledged write " + op.value + " " + describe(it->second->dot) + " of " +
                           op.key + " is gone and nothing overwrote it");
    }
  }
  if (synced_disks) {
    for (const auto& w : stored) {
      if (!w.unsynced && !history_of.at(w.key).covers(w.dot)) {
        violations.push_back("lost_write: stored write " + describe(w.dot) + " of " + w.key + " vanished from history");
      }
    }
  }

  // reused_dot
  std::map<std::pair<std::string, core::Dot>, const StoredWrite*> by_dot;
  for (const auto& w : stored) {
    if (w.unsynced && !w.sent) continue;  // made again only if its record never came back (sim_disk.h)
    auto [it, added] = by_dot.emplace(std::pair{w.key, w.dot}, &w);
    const bool same_write = !added && it->second->tombstone == w.tombstone && it->second->value == w.value;
    if (!added && !same_write) {  // a write sent out is seen again when its coordinator stores it
      violations.push_back("reused_dot: " + w.key + " " + describe(w.dot) + " was made at t=" +
                           std::to_string(it->second->at_ms) + " and again at t=" + std::to_string(w.at_ms));
    }
  }

  // stale_sibling / resurrected_delete / resurrected_after_reap
  for (const auto& [key, object] : final_state.merged) {
    const auto reaped = reaped_context(final_state.reaped, key);
    for (const auto& s : object.siblings()) {
      if (!s.tombstone && reaped.covers(s.dot)) {
        violations.push_back("resurrected_after_reap: " + key + " keeps " + describe(s.dot) +
                             " although a reaped tombstone had deleted it");
        continue;
      }
      for (const auto& w : stored) {
        if (w.key != key || w.dot != s.dot) continue;
        if (const auto* by = overwriter(w)) {
          violations.push_back(std::string(by->tombstone && !s.tombstone ? "resurrected_delete" : "stale_sibling") +
                               ": " + key + " keeps " + describe(s.dot) + " although " + describe(by->dot) +
                               " overwrote it");
        }
      }
    }
  }

  // divergent_replicas
  for (const auto& [key, replicas] : final_state.per_replica) {
    const auto reaped = reaped_context(final_state.reaped, key);
    for (size_t i = 1; i < replicas.size(); ++i) {
      if (!(unless_reaped(replicas[i], reaped) == unless_reaped(replicas[0], reaped))) {
        violations.push_back("divergent_replicas: " + key + " differs between replica 0 and replica " +
                             std::to_string(i) + " after healing and a read with R=N");
        break;
      }
    }
  }

  // stale_read: reads and writes of the calm phase with overlapping quorums.
  for (const auto& read : history) {
    if (read.kind != OpKind::read || !read.calm || read.outcome == std::nullopt ||
        (read.outcome != core::Outcome::ok && read.outcome != core::Outcome::not_found)) {
      continue;
    }
    for (const auto& write : history) {
      bool is_write = write.kind == OpKind::write || write.kind == OpKind::blind_write;
      if (!is_write || !write.calm || write.outcome != core::Outcome::ok || write.key != read.key ||
          write.n != read.n || write.w + read.r <= read.n || write.end_ms >= read.start_ms) {
        continue;
      }
      auto it = by_value.find(write.value);
      // A read after the key's tombstone was reaped finds nothing, and rightly so.
      if (it != by_value.end() && !read.read_context.covers(it->second->dot) &&
          !reaped_context(final_state.reaped, read.key, read.start_ms).covers(it->second->dot)) {
        violations.push_back("stale_read: read of " + read.key + " at t=" + std::to_string(read.start_ms) +
                             " (R=" + std::to_string(read.r) + ") missed " + write.value + " acknowledged at t=" +
                             std::to_string(write.end_ms) + " (W=" + std::to_string(write.w) + ")");
      }
    }
  }
  return violations;
}

std::vector<std::string> check_healed(const History& history, const std::vector<StoredWrite>& stored,
                                      const HealedState& healed, const core::Ring& ring,
                                      const std::vector<Crash>& crashes, uint64_t settle_ms, bool synced_disks) {
  std::vector<std::string> violations;
  for (size_t n = 0; n < healed.pending_hints.size(); ++n) {
    if (healed.pending_hints[n] != 0) {
      violations.push_back("undelivered_hint: n" + std::to_string(n) + " still holds " +
                           std::to_string(healed.pending_hints[n]) + " hints after healing");
    }
  }
  if (!synced_disks) return violations;
  std::map<std::string, const StoredWrite*> by_value;
  for (const auto& w : stored) {
    if (!w.tombstone) by_value[w.value] = &w;
  }
  auto crashed_while_settling = [&](const StoredWrite& w) {
    return std::any_of(crashes.begin(), crashes.end(), [&](const Crash& c) {
      return c.node == w.node && c.at_ms >= w.at_ms && c.at_ms <= w.at_ms + settle_ms;
    });
  };
  for (const auto& op : history) {
    bool is_write = op.kind == OpKind::write || op.kind == OpKind::blind_write;
    if (!is_write || op.outcome != core::Outcome::ok || op.calm) continue;
    auto it = by_value.find(op.value);
    if (it == by_value.end() || crashed_while_settling(*it->second)) continue;  // lost_write reports the former
    const StoredWrite& w = *it->second;
    const auto reaped = reaped_context(healed.reaped, op.key);
    for (auto m : ring.preference_list(ring.partition_of_key(op.key), op.n)) {
      if (!healed.per_node.at(op.key)[m].context().covers(w.dot) && !reaped.covers(w.dot)) {
        violations.push_back("missing_replica: acknowledged write " + op.value + " " + describe(w.dot) + " of " +
                             op.key + " (N=" + std::to_string(op.n) + ") is not on its replica n" +
                             std::to_string(m) + " after healing");
      }
    }
  }
  return violations;
}

}  // namespace md::sim
