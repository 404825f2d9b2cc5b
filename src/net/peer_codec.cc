#include "net/peer_codec.h"

#include "net/peer.pb.h"

namespace md::net {
namespace {

void to_wire(const core::VersionVector& vv, google::protobuf::RepeatedPtrField<wire::ClockEntry>* out) {
  for (const auto& [node, counter] : vv.entries()) {
    auto* e = out->Add();
    e->set_node(node);
    e->set_counter(counter);
  }
}

void to_wire(const core::ClientRequest& r, wire::ClientRequest* out) {
  out->set_op(static_cast<uint32_t>(r.op));
  out->set_key(r.key);
  out->set_value(r.value);
  if (r.context_token) out->set_context(*r.context_token);
  if (r.n) out->set_n(*r.n);
  if (r.r) out->set_r(*r.r);
  if (r.w) out->set_w(*r.w);
  out->set_strict_quorum(!r.sloppy_quorum);
  out->set_supersede(r.supersede);
}

void to_wire(const core::ClientResponse& r, wire::ClientResponse* out) {
  out->set_outcome(static_cast<uint32_t>(r.outcome));
  out->set_message(r.message);
  for (const auto& s : r.siblings) {
    auto* ws = out->add_siblings();
    ws->set_node(s.dot.node);
    ws->set_counter(s.dot.counter);
    to_wire(s.context, ws->mutable_context());
    ws->set_tombstone(s.tombstone);
    ws->set_value(s.value);
  }
  out->set_context(r.context_token);
  out->set_acknowledged(r.acknowledged);
  out->set_required(r.required);
}

void to_wire(const core::ClusterState& state, wire::ClusterState* out) {
  out->set_cluster_id(state.cluster_id);
  out->set_ring_version(state.ring_version);
  for (const auto& m : state.members) out->add_members(m);
  out->mutable_owners()->Add(state.owners.begin(), state.owners.end());
  for (const auto& [address, id] : state.node_ids) (*out->mutable_node_ids())[address] = id;
  for (const auto& [name, move] : state.moves) {
    auto& m = (*out->mutable_moves())[name];
    m.set_address(move.address);
    m.set_version(move.version);
  }
  for (const auto& [name, zone] : state.zones) (*out->mutable_zones())[name] = zone;
  for (const auto& zone : state.member_zones) out->add_member_zones(zone);
  for (const auto& [name, user] : state.users) {
    auto& u = (*out->mutable_users())[name];
    u.set_revision(user.revision);
    u.set_removed(user.removed);
    u.set_password_hash(user.password_hash);
    for (const auto& [id, digest] : user.tokens) (*u.mutable_tokens())[id] = digest;
    for (const auto& [prefix, permissions] : user.grants) {
      auto* g = u.add_grants();
      g->set_prefix(prefix);
      g->set_permissions(permissions);
    }
  }
  for (const auto& [name, departure] : state.departures) {
    auto& d = (*out->mutable_departures())[name];
    d.set_kind(static_cast<uint32_t>(departure.kind));
    d.set_replacement(departure.replacement);
  }
  out->mutable_next_owners()->Add(state.next_owners.begin(), state.next_owners.end());
  for (const auto& t : state.transfers) {
    auto* w = out->add_transfers();
    w->set_partition(t.partition);
    w->set_from(t.from);
    w->set_to(t.to);
    w->set_keys(t.keys);
    w->set_cursor(t.cursor);
    w->set_done(t.done);
  }
}

Result<core::ClusterState> from_wire(const wire::ClusterState& in) {
  core::ClusterState state;
  state.cluster_id = in.cluster_id();
  state.ring_version = in.ring_version();
  state.members.assign(in.members().begin(), in.members().end());
  state.owners.assign(in.owners().begin(), in.owners().end());
  for (const auto& [address, id] : in.node_ids()) state.node_ids.emplace(address, id);
  for (const auto& [name, move] : in.moves()) state.moves.emplace(name, core::Move{move.address(), move.version()});
  for (const auto& [name, zone] : in.zones()) state.zones.emplace(name, zone);
  state.member_zones.assign(in.member_zones().begin(), in.member_zones().end());
  for (const auto& [name, u] : in.users()) {
    core::User user{u.revision(), u.removed(), u.password_hash(), {}, {}};
    for (const auto& [id, digest] : u.tokens()) user.tokens.emplace(id, digest);
    for (const auto& g : u.grants()) {
      if (g.permissions() > core::kAllPermissions) return Status::corruption("user " + name + ": unknown permission bits");
      user.grants[g.prefix()] = static_cast<core::Permissions>(g.permissions());
    }
    state.users.emplace(name, std::move(user));
  }
  for (const auto& [name, d] : in.departures()) {
    if (d.kind() < 1 || d.kind() > 3) return Status::corruption("departure of " + name + ": unknown kind");
    state.departures.emplace(name, core::Departure{static_cast<core::DepartureKind>(d.kind()), d.replacement()});
  }
  state.next_owners.assign(in.next_owners().begin(), in.next_owners().end());
  for (const auto& t : in.transfers()) {
    state.transfers.push_back(core::Transfer{t.partition(), t.from(), t.to(), t.keys(), t.cursor(), t.done()});
  }
  if (auto s = core::validate(state); !s.is_ok()) return Status::corruption(s.message());
  return state;
}

Result<core::ClientRequest> from_wire(const wire::ClientRequest& in) {
  if (in.op() > static_cast<uint32_t>(core::Op::del)) return Status::corruption("unknown request op");
  core::ClientRequest r;
  r.op = static_cast<core::Op>(in.op());
  r.key = in.key();
  r.value = in.value();
  if (in.has_context()) r.context_token = in.context();
  if (in.has_n()) r.n = in.n();
  if (in.has_r()) r.r = in.r();
  if (in.has_w()) r.w = in.w();
  r.sloppy_quorum = !in.strict_quorum();
  r.supersede = in.supersede();
  return r;
}

Result<core::ClientResponse> from_wire(const wire::ClientResponse& in) {
  if (in.outcome() > static_cast<uint32_t>(core::Outcome::rate_limited)) return Status::corruption("unknown outcome");
  core::ClientResponse r;
  r.outcome = static_cast<core::Outcome>(in.outcome());
  r.message = in.message();
  for (const auto& ws : in.siblings()) {
    core::Sibling s;
    s.dot = core::Dot{ws.node(), ws.counter()};
    for (const auto& e : ws.context()) s.context.raise(e.node(), e.counter());
    s.tombstone = ws.tombstone();
    s.value = ws.value();
    r.siblings.push_back(std::move(s));
  }
  r.context_token = in.context();
  r.acknowledged = in.acknowledged();
  r.required = in.required();
  return r;
}

}  // namespace

std::string encode_peer_message(const core::PeerMessage& message, uint32_t hello_decodes) {
  wire::PeerMessage out;
  std::visit(
      [&](const auto& m) {
        using M = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<M, core::Hello>) {
          out.mutable_hello()->set_node_id(m.node_id);
          out.mutable_hello()->set_decodes(hello_decodes);
        } else if constexpr (std::is_same_v<M, core::ReplicaRead>) {
          auto* w = out.mutable_replica_read();
          w->set_id(m.id);
          w->set_key(m.key);
        } else if constexpr (std::is_same_v<M, core::ReplicaReadReply>) {
          auto* w = out.mutable_replica_read_reply();
          w->set_id(m.id);
          w->set_ok(m.ok);
          if (m.object) w->set_object(*m.object);
        } else if constexpr (std::is_same_v<M, core::ReplicaWrite>) {
          auto* w = out.mutable_replica_write();
          w->set_id(m.id);
          w->set_key(m.key);
          w->set_object(m.object);
          w->set_ack(m.ack);
        } else if constexpr (std::is_same_v<M, core::ReplicaWriteReply>) {
          auto* w = out.mutable_replica_write_reply();
          w->set_id(m.id);
          w->set_ok(m.ok);
        } else if constexpr (std::is_same_v<M, core::Forward>) {
          auto* w = out.mutable_forward();
          w->set_id(m.id);
          to_wire(m.request, w->mutable_request());
        } else if constexpr (std::is_same_v<M, core::Heartbeat>) {
          out.mutable_heartbeat();
        } else if constexpr (std::is_same_v<M, core::AaeTree>) {
          auto* w = out.mutable_aae_tree();
          w->set_id(m.id);
          w->set_partition(m.partition);
          w->mutable_inner()->Add(m.inner.begin(), m.inner.end());
        } else if constexpr (std::is_same_v<M, core::AaeSegments>) {
          auto* w = out.mutable_aae_segments();
          w->set_id(m.id);
          w->set_partition(m.partition);
          w->mutable_inner_nodes()->Add(m.inner_nodes.begin(), m.inner_nodes.end());
          w->mutable_segments()->Add(m.segments.begin(), m.segments.end());
        } else if constexpr (std::is_same_v<M, core::AaeKeys>) {
          auto* w = out.mutable_aae_keys();
          w->set_id(m.id);
          w->set_partition(m.partition);
          w->mutable_segments()->Add(m.segments.begin(), m.segments.end());
          for (const auto& k : m.keys) w->add_keys(k);
          w->mutable_hashes()->Add(m.hashes.begin(), m.hashes.end());
        } else if constexpr (std::is_same_v<M, core::AaePull>) {
          auto* w = out.mutable_aae_pull();
          w->set_partition(m.partition);
          for (const auto& k : m.keys) w->add_keys(k);
        } else if constexpr (std::is_same_v<M, core::ForwardReply>) {
          auto* w = out.mutable_forward_reply();
          w->set_id(m.id);
          to_wire(m.response, w->mutable_response());
        } else if constexpr (std::is_same_v<M, core::Gossip>) {
          auto* w = out.mutable_gossip();
          to_wire(m.state, w->mutable_state());
          w->set_reply(m.reply);
        } else if constexpr (std::is_same_v<M, core::ReapCheck>) {
          auto* w = out.mutable_reap_check();
          w->set_id(m.id);
          w->set_ring_version(m.ring_version);
          w->set_partition(m.partition);
          for (const auto& k : m.keys) w->add_keys(k);
          w->mutable_hashes()->Add(m.hashes.begin(), m.hashes.end());
        } else if constexpr (std::is_same_v<M, core::ReapCheckReply>) {
          auto* w = out.mutable_reap_check_reply();
          w->set_id(m.id);
          w->mutable_ready()->Add(m.ready.begin(), m.ready.end());
        } else if constexpr (std::is_same_v<M, core::Reap>) {
          auto* w = out.mutable_reap();
          w->set_partition(m.partition);
          for (const auto& k : m.keys) w->add_keys(k);
          w->mutable_hashes()->Add(m.hashes.begin(), m.hashes.end());
        } else if constexpr (std::is_same_v<M, core::ListKeys>) {
          auto* w = out.mutable_list_keys();
          w->set_id(m.id);
          w->set_prefix(m.prefix);
          if (m.after) w->set_after(*m.after);
          w->set_limit(m.limit);
          w->set_n(m.n);
        } else if constexpr (std::is_same_v<M, core::ListKeysReply>) {
          auto* w = out.mutable_list_keys_reply();
          w->set_id(m.id);
          w->set_ok(m.ok);
          for (const auto& k : m.keys) w->add_keys(k);
          for (const auto& o : m.objects) w->add_objects(o);
          w->set_more(m.more);
        } else if constexpr (std::is_same_v<M, core::TransferBatch>) {
          auto* w = out.mutable_transfer_batch();
          w->set_id(m.id);
          w->set_partition(m.partition);
          for (const auto& k : m.keys) w->add_keys(k);
          for (const auto& o : m.objects) w->add_objects(o);
        } else if constexpr (std::is_same_v<M, core::TransferAck>) {
          auto* w = out.mutable_transfer_ack();
          w->set_id(m.id);
          w->set_ok(m.ok);
        } else if constexpr (std::is_same_v<M, core::HintedWrite>) {
          auto* w = out.mutable_hinted_write();
          w->set_id(m.id);
          w->set_owner(m.owner);
          w->set_key(m.key);
          w->set_object(m.object);
        } else {
          static_assert(std::is_same_v<M, core::HintedWriteReply>);
          auto* w = out.mutable_hinted_write_reply();
          w->set_id(m.id);
          w->set_owner(m.owner);
          w->set_ok(m.ok);
        }
      },
      message);
  return out.SerializeAsString();
}

Result<core::PeerMessage> decode_peer_message(std::string_view bytes, uint32_t* hello_decodes) {
  wire::PeerMessage in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Status::corruption("peer message does not parse");
  }
  switch (in.body_case()) {
    case wire::PeerMessage::kHello:
      if (hello_decodes != nullptr) *hello_decodes = in.hello().decodes();
      return core::PeerMessage(core::Hello{in.hello().node_id()});
    case wire::PeerMessage::kReplicaRead:
      return core::PeerMessage(core::ReplicaRead{in.replica_read().id(), in.replica_read().key()});
    case wire::PeerMessage::kReplicaReadReply: {
      const auto& m = in.replica_read_reply();
      core::ReplicaReadReply r{m.id(), m.ok(), std::nullopt};
      if (m.has_object()) r.object = m.object();
      return core::PeerMessage(std::move(r));
    }
    case wire::PeerMessage::kReplicaWrite: {
      const auto& m = in.replica_write();
      return core::PeerMessage(core::ReplicaWrite{m.id(), m.key(), m.object(), m.ack()});
    }
    case wire::PeerMessage::kReplicaWriteReply:
      return core::PeerMessage(core::ReplicaWriteReply{in.replica_write_reply().id(), in.replica_write_reply().ok()});
    case wire::PeerMessage::kForward: {
      auto request = from_wire(in.forward().request());
      if (!request.is_ok()) return request.status();
      return core::PeerMessage(core::Forward{in.forward().id(), std::move(request).value()});
    }
    case wire::PeerMessage::kForwardReply: {
      auto response = from_wire(in.forward_reply().response());
      if (!response.is_ok()) return response.status();
      return core::PeerMessage(core::ForwardReply{in.forward_reply().id(), std::move(response).value()});
    }
    case wire::PeerMessage::kHintedWrite: {
      const auto& m = in.hinted_write();
      return core::PeerMessage(core::HintedWrite{m.id(), m.owner(), m.key(), m.object()});
    }
    case wire::PeerMessage::kHintedWriteReply: {
      const auto& m = in.hinted_write_reply();
      return core::PeerMessage(core::HintedWriteReply{m.id(), m.owner(), m.ok()});
    }
    case wire::PeerMessage::kHeartbeat: return core::PeerMessage(core::Heartbeat{});
    case wire::PeerMessage::kAaeTree: {
      const auto& m = in.aae_tree();
      return core::PeerMessage(core::AaeTree{m.id(), m.partition(), {m.inner().begin(), m.inner().end()}});
    }
    case wire::PeerMessage::kAaeSegments: {
      const auto& m = in.aae_segments();
      return core::PeerMessage(core::AaeSegments{m.id(), m.partition(), {m.inner_nodes().begin(), m.inner_nodes().end()},
                                                 {m.segments().begin(), m.segments().end()}});
    }
    case wire::PeerMessage::kAaeKeys: {
      const auto& m = in.aae_keys();
      return core::PeerMessage(core::AaeKeys{m.id(), m.partition(), {m.segments().begin(), m.segments().end()},
                                             {m.keys().begin(), m.keys().end()}, {m.hashes().begin(), m.hashes().end()}});
    }
    case wire::PeerMessage::kAaePull: {
      const auto& m = in.aae_pull();
      return core::PeerMessage(core::AaePull{m.partition(), {m.keys().begin(), m.keys().end()}});
    }
    case wire::PeerMessage::kGossip: {
      auto state = from_wire(in.gossip().state());
      if (!state.is_ok()) return state.status();
      return core::PeerMessage(core::Gossip{std::move(state).value(), in.gossip().reply()});
    }
    case wire::PeerMessage::kReapCheck: {
      const auto& m = in.reap_check();
      return core::PeerMessage(core::ReapCheck{m.id(), m.ring_version(), m.partition(),
                                               {m.keys().begin(), m.keys().end()},
                                               {m.hashes().begin(), m.hashes().end()}});
    }
    case wire::PeerMessage::kReapCheckReply: {
      const auto& m = in.reap_check_reply();
      return core::PeerMessage(core::ReapCheckReply{m.id(), {m.ready().begin(), m.ready().end()}});
    }
    case wire::PeerMessage::kReap: {
      const auto& m = in.reap();
      return core::PeerMessage(core::Reap{m.partition(), {m.keys().begin(), m.keys().end()},
                                          {m.hashes().begin(), m.hashes().end()}});
    }
    case wire::PeerMessage::kListKeys: {
      const auto& m = in.list_keys();
      core::ListKeys r{m.id(), m.prefix(), std::nullopt, m.limit(), m.n()};
      if (m.has_after()) r.after = m.after();
      return core::PeerMessage(std::move(r));
    }
    case wire::PeerMessage::kTransferBatch: {
      const auto& m = in.transfer_batch();
      if (m.keys_size() != m.objects_size()) return Status::corruption("a transfer batch has a key without its object");
      return core::PeerMessage(core::TransferBatch{m.id(), m.partition(), {m.keys().begin(), m.keys().end()},
                                                   {m.objects().begin(), m.objects().end()}});
    }
    case wire::PeerMessage::kTransferAck:
      return core::PeerMessage(core::TransferAck{in.transfer_ack().id(), in.transfer_ack().ok()});
    case wire::PeerMessage::kListKeysReply: {
      const auto& m = in.list_keys_reply();
      if (m.keys_size() != m.objects_size()) return Status::corruption("a key listing's reply has a key without its object");
      return core::PeerMessage(core::ListKeysReply{m.id(), m.ok(), {m.keys().begin(), m.keys().end()},
                                                   {m.objects().begin(), m.objects().end()}, m.more()});
    }
    case wire::PeerMessage::BODY_NOT_SET: break;
  }
  return Status::corruption("peer message of unknown kind");
}

std::string encode_cluster_state(const core::ClusterState& state) {
  wire::ClusterState out;
  to_wire(state, &out);
  return out.SerializeAsString();
}

Result<core::ClusterState> decode_cluster_state(std::string_view bytes) {
  wire::ClusterState in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Status::corruption("cluster state does not parse");
  return from_wire(in);
}

}  // namespace md::net
