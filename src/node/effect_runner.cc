#include "node/effect_runner.h"

#include <algorithm>
#include <cassert>
#include <functional>
#include <map>
#include <utility>

#include "core/merkle_tree.h"
#include "core/object_codec.h"

namespace md::node {

ApplyFn core_apply() {
  return [](uint32_t, std::optional<std::string_view> current, const core::StorageUpdate& update) {
    return core::apply_update(current, update);
  };
}

EffectRunner::EffectRunner(core::Node& node, storage::Engine& engine, Committer* committer, Host& host, ApplyFn apply)
    : node_(node), engine_(engine), committer_(committer), host_(host), apply_(std::move(apply)) {}

Result<uint64_t> EffectRunner::recover() {
  uint64_t keys = 0;
  for (uint32_t p = 0; p < node_.ring().partitions(); ++p) {
    auto s = engine_.for_each(p, std::nullopt, [&](std::string_view key, std::string_view object) {
      node_.load_object(host_.now_ms(), p, key, object);
      ++keys;
      return true;
    });
    if (!s.is_ok()) return s;
  }
  std::vector<std::string> hints;
  auto s = engine_.for_each(core::kHintPartition, std::nullopt, [&](std::string_view key, std::string_view) {
    hints.emplace_back(key);
    return true;
  });
  if (!s.is_ok()) return s;
  node_.on_hints_recovered(hints);
  return keys;
}

void EffectRunner::client_request(core::RequestId client, core::ClientRequest request) {
  node_.on_client_request(host_.now_ms(), client, std::move(request));
  run();
}

void EffectRunner::peer_message(core::MemberIndex from, core::PeerMessage message) {
  node_.on_peer_message(host_.now_ms(), from, std::move(message));
  run();
}

void EffectRunner::peer_up(core::MemberIndex peer) {
  node_.on_peer_up(peer);
  run();
}

void EffectRunner::peer_down(core::MemberIndex peer) {
  node_.on_peer_down(host_.now_ms(), peer);
  run();
}

void EffectRunner::tick() {
  node_.on_tick(host_.now_ms());
  run();
}

void EffectRunner::run() {
  if (running_) return;
  running_ = true;
  while (true) {
    auto effects = node_.take_effects();
    if (effects.empty()) break;
    std::vector<core::StorageDone> done_here;
    bool floor_kept = true;
    std::vector<storage::Update> updates;
    std::vector<PendingUpdate> pending;
    auto notes = std::make_shared<Notes>();  // sized once the batch is known
    for (auto& effect : effects) {
      if (auto* send = std::get_if<core::SendPeer>(&effect)) {
        host_.send(send->to, send->message);
      } else if (auto* reply = std::get_if<core::ReplyClient>(&effect)) {
        host_.reply(reply->client, std::move(reply->response));
      } else if (auto* save = std::get_if<core::SaveClusterState>(&effect)) {
        // Gossip brings the state again if it cannot be kept now.
        if (auto s = host_.keep_cluster_state(save->state); !s.is_ok()) host_.storage_failed("keeping the cluster state", s);
      } else if (auto* warn = std::get_if<core::Warn>(&effect)) {
        host_.warn(warn->message);
      } else if (auto* floor = std::get_if<core::SaveDotFloor>(&effect)) {
        // Durable before the removals that follow it; if it cannot be kept, they do not happen.
        if (auto s = host_.keep_dot_floor(floor->floor); !s.is_ok()) {
          host_.storage_failed("keeping the dot floor (tombstones stay until it can be kept)", s);
          floor_kept = false;
        }
      } else if (auto* scan_op = std::get_if<core::ScanSegments>(&effect)) {
        node_.on_scan_done(host_.now_ms(), scan(*scan_op));  // its effects come in the next pass
      } else if (auto* keys_op = std::get_if<core::ScanKeys>(&effect)) {
        node_.on_scan_done(host_.now_ms(), scan_keys(*keys_op));
      } else if (auto& op = std::get<core::StorageOp>(effect); !op.update) {
        done_here.push_back(read(op));
      } else if (auto* removal = std::get_if<core::RemoveKey>(&*op.update)) {
        done_here.push_back(removal->if_hash && !floor_kept ? read(op) : remove(op));
      } else {
        pending.push_back(PendingUpdate{op.op, op.partition, op.key, std::holds_alternative<core::CoordinatorWrite>(*op.update)});
        updates.push_back(to_update(std::move(op), notes, updates.size()));
      }
    }
    for (auto& done : done_here) node_.on_storage_done(host_.now_ms(), std::move(done));
    if (updates.empty()) continue;
    notes->previous_hash.resize(updates.size());
    notes->dot_collision.resize(updates.size());
    if (committer_ != nullptr) {
      auto applied = applied_callback(pending);  // before `pending` moves into the completion
      committer_->submit(std::move(updates), std::move(applied),
                         [this, pending = std::move(pending), notes = std::move(notes)](
                             std::vector<storage::UpdateResult> results) {
                           updates_done(pending, *notes, std::move(results));
                           run();
                         });
    } else {
      updates_done(pending, *notes, engine_.update_all(updates));
    }
  }
  running_ = false;
}

core::StorageDone EffectRunner::read(const core::StorageOp& op) {
  core::StorageDone done{op.op, Status::ok(), std::nullopt};
  std::string bytes;
  auto status = engine_.get(op.partition, op.key, &bytes);
  if (status.is_ok()) {
    done.object = std::move(bytes);
  } else if (status.code() != Code::not_found) {
    host_.storage_failed("reading key '" + op.key + "'", status);
    done.status = status;
  }
  return done;
}

core::StorageDone EffectRunner::remove(const core::StorageOp& op) {
  // A delivered hint, or a reaped tombstone. Not synced on its own: if a crash loses the removal,
  // the hint is delivered again and the owner's merge makes that harmless; the tombstone is
  // reaped again.
  const auto& removal = std::get<core::RemoveKey>(*op.update);
  core::StorageDone done = read(op);
  if (!done.status.is_ok() || !done.object) return done;
  done.previous_hash = core::object_hash(*done.object);
  // A reaped tombstone goes only if it is still exactly the one every member agreed on. The core
  // has no update of the key in flight, so nothing changes it between this read and the removal.
  if (removal.if_hash && done.previous_hash != *removal.if_hash) return done;
  done.status = engine_.remove(op.partition, op.key);
  if (!done.status.is_ok()) {
    host_.storage_failed("removing key '" + op.key + "'", done.status);
    return done;
  }
  host_.removed(op.partition, op.key, *done.object);
  done.object.reset();
  return done;
}

core::ScanDone EffectRunner::scan(const core::ScanSegments& scan) {
  core::ScanDone done{scan.op, Status::ok(), {}};
  done.status = engine_.for_each(scan.partition, std::nullopt, [&](std::string_view key, std::string_view object) {
    if (std::binary_search(scan.segments.begin(), scan.segments.end(), core::segment_of(key))) {
      done.entries.emplace_back(key, object);
    }
    return true;
  });
  if (!done.status.is_ok()) {
    host_.storage_failed("the anti-entropy scan of partition " + std::to_string(scan.partition), done.status);
  }
  return done;
}

// Each partition is read in key order from the page's start, and only while its keys could still
// be among the `limit` smallest seen so far: the page in hand never holds more than `limit` keys.
core::ScanDone EffectRunner::scan_keys(const core::ScanKeys& scan) {
  core::ScanDone done{scan.op, Status::ok(), {}};
  std::map<std::string, std::string, std::less<>> page;
  uint64_t bytes = 0;
  auto take = [&](std::string_view key, std::string_view object) {
    if (!key.starts_with(scan.prefix)) return false;  // past the prefix's keys (the scan starts at or after it)
    if ((page.size() == scan.limit && key >= page.rbegin()->first) || (scan.values && bytes >= scan.bytes_max)) {
      done.more = true;  // this partition's later keys are larger still
      return false;
    }
    if (scan.values) {  // one partition, in key order: the page only grows at its end
      bytes += key.size() + object.size();
      page.emplace(key, object);
      return true;
    }
    auto stripped = core::without_values(object);
    if (!stripped) return true;  // not an object: a read of the key reports it
    page.emplace(key, std::move(*stripped));
    if (page.size() > scan.limit) {
      page.erase(std::prev(page.end()));
      done.more = true;
    }
    return true;
  };
  // From the cursor, or from the prefix itself: "strictly after" the prefix would skip a key equal to it.
  const bool from_cursor = scan.after && *scan.after >= scan.prefix;
  for (uint32_t p : scan.partitions) {
    if (!from_cursor && !scan.prefix.empty()) {
      std::string object;
      if (Status s = engine_.get(p, scan.prefix, &object); s.is_ok()) {
        take(scan.prefix, object);
      } else if (s.code() != Code::not_found) {
        done.status = s;
      }
    }
    if (!done.status.is_ok()) break;
    std::optional<std::string_view> after;
    if (from_cursor) {
      after = *scan.after;
    } else if (!scan.prefix.empty()) {
      after = scan.prefix;
    }
    done.status = engine_.for_each(p, after, take);
    if (!done.status.is_ok()) break;
  }
  if (!done.status.is_ok()) {
    host_.storage_failed("a key listing's scan", done.status);
    return done;
  }
  for (auto& [key, object] : page) done.entries.emplace_back(key, std::move(object));
  return done;
}

storage::Update EffectRunner::to_update(core::StorageOp op, const std::shared_ptr<Notes>& notes, size_t index) {
  // The function may run on the committer's thread: it owns copies of what it needs, and leaves
  // what it saw in notes at `index`.
  return storage::Update{op.partition, std::move(op.key),
                         [update = std::move(*op.update), partition = op.partition, apply = apply_, notes,
                          index](std::optional<std::string_view> current) -> Result<std::optional<std::string>> {
                           notes->previous_hash[index] = current ? core::object_hash(*current) : 0;
                           auto applied = apply(partition, current, update);
                           if (!applied.is_ok()) return applied.status();
                           notes->dot_collision[index] = applied->dot_collision;
                           return std::move(applied->bytes);
                         }};
}

// A coordinator's write goes to the replicas once its object is decided, while the committer
// writes and syncs it here; other updates wait for their completion.
CommitQueue::Applied EffectRunner::applied_callback(const std::vector<PendingUpdate>& updates) {
  std::vector<std::pair<size_t, PendingUpdate>> coordinated;  // with their index in the batch
  for (size_t i = 0; i < updates.size(); ++i) {
    if (updates[i].coordinator) coordinated.emplace_back(i, updates[i]);
  }
  if (coordinated.empty()) return nullptr;
  return [this, coordinated = std::move(coordinated)](std::span<const storage::UpdateResult> results) {
    for (const auto& [i, update] : coordinated) {
      if (!results[i].status.is_ok()) continue;
      host_.sent(update.partition, update.key, results[i].stored);
      node_.on_storage_applied(update.op, results[i].stored);
    }
    run();
  };
}

void EffectRunner::updates_done(const std::vector<PendingUpdate>& updates, const Notes& notes,
                                std::vector<storage::UpdateResult> results) {
  assert(results.size() == updates.size());
  for (size_t i = 0; i < updates.size(); ++i) {
    core::StorageDone done{updates[i].op, std::move(results[i].status), std::nullopt, notes.previous_hash[i],
                           notes.dot_collision[i] != 0};
    if (done.status.is_ok()) {
      done.object = std::move(results[i].stored);
      host_.stored(updates[i].partition, updates[i].key, updates[i].coordinator, done);
    } else if (done.status.code() != Code::conflict) {  // a refused write (too many siblings) is no fault
      if (!results[i].stored.empty()) {  // written, not synced: it may still take effect
        core::StorageDone written = done;
        written.object = std::move(results[i].stored);
        host_.stored(updates[i].partition, updates[i].key, updates[i].coordinator, written);
      }
      host_.storage_failed("updating key '" + updates[i].key + "'", done.status);
    }
    node_.on_storage_done(host_.now_ms(), std::move(done));
  }
}

}  // namespace md::node
