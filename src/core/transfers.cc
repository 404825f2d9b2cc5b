#include "core/transfers.h"

namespace md::core {

std::vector<Transfer> Transfers::on_tick(Outbox& out, const ClusterState& state, const NodeView& view,
                                         uint64_t now_ms) {
  auto planned = [&](const Key& key) -> const Transfer* {
    for (const auto& t : state.transfers) {
      if (t.partition == key.first && t.from == self_ && t.to == key.second) return &t;
    }
    return nullptr;
  };
  for (auto it = sending_.begin(); it != sending_.end();) {
    const Transfer* t = planned(it->first);
    if (t != nullptr && !t->done) {
      ++it;
      continue;
    }
    // Replanned without it, or recorded as done: its answers in flight find nothing.
    scans_.erase(it->second.scan);
    batches_.erase(it->second.batch);
    it = sending_.erase(it);
  }
  for (const auto& t : state.transfers) {
    if (sending_.size() >= options_.sending_max) break;
    const Key key{t.partition, t.to};
    if (t.from != self_ || t.done || sending_.contains(key) || !view.peers.up(t.to)) continue;
    sending_.emplace(key, Sending{t});
  }
  for (auto& [key, s] : sending_) {
    if (s.batch != 0 && now_ms >= s.deadline_ms) {  // unacknowledged: read and send it again
      ++counters_.batches_resent;
      batches_.erase(s.batch);
      s.batch = 0;
    }
    if (s.batch == 0 && s.scan == 0 && now_ms >= s.deadline_ms && view.peers.up(key.second)) read_next(out, s);
  }
  std::vector<Transfer> progress;
  if (now_ms >= last_publish_ms_ + options_.publish_ms) {
    last_publish_ms_ = now_ms;
    for (auto& [key, s] : sending_) {
      if (!s.unpublished) continue;
      s.unpublished = false;
      progress.push_back(s.progress);
    }
  }
  return progress;
}

void Transfers::read_next(Outbox& out, Sending& s) {
  s.scan = out.next_id();
  scans_.emplace(s.scan, Key{s.progress.partition, s.progress.to});
  std::optional<std::string> after;
  if (!s.progress.cursor.empty()) after = s.progress.cursor;  // keys are never empty
  out.push(ScanKeys{s.scan, {s.progress.partition}, {}, std::move(after), options_.batch_keys, true,
                    options_.batch_bytes});
}

bool Transfers::on_scan_done(Outbox& out, uint64_t now_ms, const ScanDone& done) {
  auto scan = scans_.find(done.op);
  if (scan == scans_.end()) return false;
  auto it = sending_.find(scan->second);
  scans_.erase(scan);
  if (it == sending_.end()) return true;
  auto& s = it->second;
  s.scan = 0;
  if (!done.status.is_ok()) {  // the engine failed (the runtime reported it): try again later
    s.deadline_ms = now_ms + options_.retry_ms;
    return true;
  }
  TransferBatch batch{out.next_id(), s.progress.partition, {}, {}};
  for (const auto& [key, object] : done.entries) {
    batch.keys.push_back(key);
    batch.objects.push_back(object);
  }
  s.batch = batch.id;
  s.batch_last = batch.keys.empty() ? s.progress.cursor : batch.keys.back();
  s.batch_keys = batch.keys.size();
  s.batch_final = !done.more;  // an empty last batch too: the receiver's acknowledgement ends the transfer
  s.deadline_ms = now_ms + options_.ack_timeout_ms;
  batches_.emplace(batch.id, it->first);
  ++counters_.batches_sent;
  out.send(it->first.second, std::move(batch));
  return true;
}

std::vector<Transfer> Transfers::on_ack(Outbox& out, uint64_t now_ms, MemberIndex from, const TransferAck& ack) {
  auto batch = batches_.find(ack.id);
  if (batch == batches_.end() || batch->second.second != from) return {};
  const Key key = batch->second;
  batches_.erase(batch);
  auto& s = sending_.at(key);
  s.batch = 0;
  if (!ack.ok) {  // the receiver could not store it: again after a pause
    ++counters_.batches_resent;
    s.deadline_ms = now_ms + options_.retry_ms;
    return {};
  }
  counters_.keys_sent += s.batch_keys;
  s.progress.keys += s.batch_keys;
  s.progress.cursor = s.batch_last;
  if (!s.batch_final) {
    s.unpublished = true;
    read_next(out, s);
    return {};
  }
  s.progress.done = true;
  ++counters_.transfers_done;
  Transfer done = s.progress;
  sending_.erase(key);
  return {done};
}

void Transfers::on_peer_down(MemberIndex peer) {
  for (auto& [key, s] : sending_) {
    if (key.second != peer || s.batch == 0) continue;
    ++counters_.batches_resent;  // once it is up again, from the cursor
    batches_.erase(s.batch);
    s.batch = 0;
    s.deadline_ms = 0;
  }
}

void Transfers::on_batch(Outbox& out, const NodeView& view, MemberIndex from, TransferBatch batch) {
  if (batch.keys.size() != batch.objects.size()) return out.send(from, TransferAck{batch.id, false});
  ++counters_.batches_received;
  counters_.keys_received += batch.keys.size();
  if (batch.keys.empty()) return out.send(from, TransferAck{batch.id, true});
  const RequestId id = out.next_id();
  received_.emplace(id, Receiving{from, batch.id, batch.keys.size(), true});
  for (size_t i = 0; i < batch.keys.size(); ++i) {
    const uint32_t partition = view.ring.partition_of_key(batch.keys[i]);
    storing_.emplace(out.storage(Part::transfers, partition, std::move(batch.keys[i]), MergeWrite{std::move(batch.objects[i])}),
                     id);
  }
}

void Transfers::on_storage_done(Outbox& out, const StorageDone& done) {
  auto op = storing_.find(done.op);
  if (op == storing_.end()) return;
  auto it = received_.find(op->second);
  storing_.erase(op);
  auto& r = it->second;
  r.ok = r.ok && done.status.is_ok();
  if (--r.remaining > 0) return;
  out.send(r.from, TransferAck{r.id, r.ok});
  received_.erase(it);
}

std::vector<Transfer> Transfers::sending() const {
  std::vector<Transfer> out;
  for (const auto& [key, s] : sending_) out.push_back(s.progress);
  return out;
}

}  // namespace md::core
