#include "core/key_lister.h"

#include <algorithm>

#include "core/object_codec.h"

namespace md::core {
namespace {

bool contains(const std::vector<MemberIndex>& members, MemberIndex m) {
  return std::find(members.begin(), members.end(), m) != members.end();
}

// The partitions `member` is among the first n replicas of: the ones it lists.
std::vector<uint32_t> listed_partitions(const Ring& ring, MemberIndex member, uint32_t n) {
  std::vector<uint32_t> partitions;
  for (uint32_t p = 0; p < ring.partitions(); ++p) {
    auto replicas = ring.preference_list(p, std::min<size_t>(n, ring.serving()));  // a peer's n: its ring may differ
    if (std::find(replicas.begin(), replicas.end(), member) != replicas.end()) partitions.push_back(p);
  }
  return partitions;
}

}  // namespace

void KeyLister::start(Outbox& out, const NodeView& view, uint64_t now_ms, const Origin& origin, ListRequest request) {
  ++counters_.listings;
  Listing listing;
  listing.origin = origin;
  listing.request = std::move(request);
  listing.deadline_ms = now_ms + timeout_ms_;
  start_round(out, view, listing);
}

void KeyLister::start_round(Outbox& out, const NodeView& view, Listing& listing) {
  listing.round = out.next_id();
  listing.waiting.clear();
  listing.answered.clear();
  listing.keys.clear();
  listing.bound.reset();
  for (MemberIndex m = 0; m < view.ring.members().size(); ++m) {
    if (m == view.self || (view.peers.up(m) && !view.ring.departed(m))) listing.waiting.push_back(m);
  }
  // Only the keys the page still lacks: the next round starts after this one's bound anyway.
  ListRequest ask = listing.request;
  ask.limit -= static_cast<uint32_t>(listing.found.size());
  const RequestId round = listing.round;
  auto& kept = listings_.emplace(round, std::move(listing)).first->second;
  for (MemberIndex m : std::vector<MemberIndex>(kept.waiting)) {
    if (m == view.self) {
      scan(out, view, ask, ScanFor{round, std::nullopt, 0});
    } else {
      out.send(m, ListKeys{round, ask.prefix, ask.after, ask.limit, ask.n});
    }
  }
}

void KeyLister::on_list(Outbox& out, const NodeView& view, MemberIndex from, ListKeys request) {
  scan(out, view, ListRequest{std::move(request.prefix), std::move(request.after), request.limit, request.n},
       ScanFor{0, from, request.id});
}

void KeyLister::scan(Outbox& out, const NodeView& view, const ListRequest& request, ScanFor target) {
  const RequestId op = out.next_id();
  scans_.emplace(op, target);
  out.push(ScanKeys{op, listed_partitions(view.ring, view.self, request.n), request.prefix, request.after,
                    request.limit});
}

bool KeyLister::on_scan_done(Outbox& out, const NodeView& view, uint64_t now_ms, ScanDone& done) {
  auto it = scans_.find(done.op);
  if (it == scans_.end()) return false;
  const ScanFor target = it->second;
  scans_.erase(it);
  ListKeysReply reply;
  reply.id = target.peer ? target.peer_id : target.round;
  reply.ok = done.status.is_ok();
  reply.more = done.more;
  for (auto& [key, object] : done.entries) {
    reply.keys.push_back(std::move(key));
    reply.objects.push_back(std::move(object));
  }
  if (target.peer) {
    out.send(*target.peer, std::move(reply));
  } else {
    add(out, view, now_ms, target.round, view.self, reply);
  }
  return true;
}

void KeyLister::on_reply(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex from, ListKeysReply reply) {
  add(out, view, now_ms, reply.id, from, reply);
}

void KeyLister::add(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round, MemberIndex from,
                    const ListKeysReply& reply) {
  auto it = listings_.find(round);
  if (it == listings_.end()) return;  // an earlier round's, or a listing answered already
  auto& listing = it->second;
  auto waiting = std::find(listing.waiting.begin(), listing.waiting.end(), from);
  if (waiting == listing.waiting.end()) return;  // given up on already, or a duplicate
  listing.waiting.erase(waiting);
  // A member whose engine failed has not answered: its partitions count as unread.
  if (reply.ok && reply.keys.size() == reply.objects.size()) {
    listing.answered.push_back(from);
    const auto& request = listing.request;
    for (size_t i = 0; i < reply.keys.size(); ++i) {
      const std::string& key = reply.keys[i];
      // Only keys of this round: the cursor must move forward whatever a peer sends.
      if (!key.starts_with(request.prefix) || (request.after && key <= *request.after)) continue;
      auto object = decode_object(reply.objects[i]);
      if (!object.is_ok()) continue;
      listing.keys[key].merge(*object);
    }
    if (reply.more && !reply.keys.empty() && (!listing.bound || reply.keys.back() < *listing.bound)) {
      listing.bound = reply.keys.back();
    }
  }
  round_done_if_complete(out, view, now_ms, round);
}

void KeyLister::give_up_on(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round, MemberIndex member) {
  auto& waiting = listings_.at(round).waiting;
  waiting.erase(std::remove(waiting.begin(), waiting.end(), member), waiting.end());
  round_done_if_complete(out, view, now_ms, round);
}

void KeyLister::on_peer_down(Outbox& out, const NodeView& view, uint64_t now_ms, MemberIndex peer) {
  std::vector<RequestId> owed;
  for (const auto& [round, listing] : listings_) {
    if (contains(listing.waiting, peer)) owed.push_back(round);
  }
  for (RequestId round : owed) give_up_on(out, view, now_ms, round, peer);
}

void KeyLister::on_tick(Outbox& out, const NodeView& view, uint64_t now_ms) {
  std::vector<RequestId> expired;
  for (const auto& [round, listing] : listings_) {
    if (now_ms >= listing.deadline_ms) expired.push_back(round);
  }
  for (RequestId round : expired) {
    listings_.at(round).waiting.clear();
    round_done_if_complete(out, view, now_ms, round);
  }
}

void KeyLister::round_done_if_complete(Outbox& out, const NodeView& view, uint64_t now_ms, RequestId round) {
  auto it = listings_.find(round);
  if (!it->second.waiting.empty()) return;
  Listing listing = std::move(it->second);
  listings_.erase(it);
  const auto& request = listing.request;
  for (uint32_t p = 0; p < view.ring.partitions(); ++p) {
    auto replicas = view.ring.preference_list(p, std::min<size_t>(request.n, view.ring.serving()));
    bool read = std::any_of(replicas.begin(), replicas.end(), [&](MemberIndex m) { return contains(listing.answered, m); });
    if (!read) {
      ++counters_.listings_failed;
      return out.fail(listing.origin, Outcome::unavailable,
                      "no replica of partition " + std::to_string(p) + " answered the listing in time (" +
                          std::to_string(listing.answered.size()) + " of " +
                          std::to_string(view.ring.members().size()) +
                          " members did); it would miss that partition's keys: retry once they are reachable",
                      static_cast<uint32_t>(listing.answered.size()), static_cast<uint32_t>(view.ring.members().size()));
    }
  }
  auto key = listing.keys.begin();
  for (; key != listing.keys.end() && listing.found.size() < request.limit; ++key) {
    if (listing.bound && key->first > *listing.bound) break;
    if (!key->second.deleted()) listing.found.push_back(key->first);
  }
  ClientResponse response;
  if (listing.found.size() == request.limit) {
    // Full: the next page starts after its last key, unless nothing can follow it.
    if (listing.bound || key != listing.keys.end()) response.next_cursor = listing.found.back();
  } else if (listing.bound && now_ms < listing.deadline_ms) {
    // Every key up to the bound was considered, and members hold more: on after it.
    listing.request.after = listing.bound;
    return start_round(out, view, listing);
  } else {
    response.next_cursor = listing.bound;  // short at the deadline; nullopt: every key was considered
  }
  response.keys = std::move(listing.found);
  response.acknowledged = static_cast<uint32_t>(listing.answered.size());
  out.answer(listing.origin, std::move(response));
}

}  // namespace md::core
