// Peer messages and cluster states survive encoding and decoding unchanged, compared by value
// field by field (operator==), whatever their fields hold: empty strings, binary bytes, 0 and the
// largest numbers. A field the encoder forgets or the decoder drops fails a property.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <variant>

#include "net/peer_codec.h"
#include "net/peer.pb.h"

namespace md::net {
namespace {

// Bytes of any value, NUL and 0xff included, with the empty string often.
rc::Gen<std::string> bytes() {
  return rc::gen::weightedOneOf<std::string>({{1, rc::gen::just(std::string())},
                                              {3, rc::gen::container<std::string>(rc::gen::arbitrary<char>())}});
}

// Any number, with 0, 1 and the extremes often.
template <typename T>
rc::Gen<T> number() {
  using limits = std::numeric_limits<T>;
  return rc::gen::weightedOneOf<T>(
      {{1, rc::gen::element<T>(0, 1, limits::max(), limits::min())}, {3, rc::gen::arbitrary<T>()}});
}

template <typename T>
rc::Gen<std::vector<T>> numbers() {
  return rc::gen::container<std::vector<T>>(number<T>());
}

rc::Gen<std::vector<std::string>> byte_strings() { return rc::gen::container<std::vector<std::string>>(bytes()); }

template <typename T>
rc::Gen<std::optional<T>> maybe(rc::Gen<T> gen) {
  return rc::gen::oneOf(rc::gen::just(std::optional<T>()),
                        rc::gen::map(gen, [](T value) { return std::optional<T>(std::move(value)); }));
}

// A member's address: text (the cluster state's maps are keyed by address, and protobuf map keys
// are UTF-8 strings), never empty.
rc::Gen<std::string> address() {
  return rc::gen::nonEmpty(rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~' + 1)));
}

// A vector with counters of 0 (which raise() ignores) up to the largest. Nested containers are
// kept small (gen::scale) so that a property's 100 runs take well under a second.
rc::Gen<core::VersionVector> version_vector() {
  return rc::gen::map(rc::gen::scale(0.1, rc::gen::container<std::vector<std::pair<std::string, uint64_t>>>(
                          rc::gen::pair(bytes(), number<uint64_t>()))),
                      [](const std::vector<std::pair<std::string, uint64_t>>& entries) {
                        core::VersionVector vv;
                        for (const auto& [node, counter] : entries) vv.raise(node, counter);
                        return vv;
                      });
}

rc::Gen<core::Sibling> sibling() {
  return rc::gen::build<core::Sibling>(
      rc::gen::set(&core::Sibling::dot, rc::gen::build<core::Dot>(rc::gen::set(&core::Dot::node, bytes()),
                                                                  rc::gen::set(&core::Dot::counter, number<uint64_t>()))),
      rc::gen::set(&core::Sibling::context, version_vector()), rc::gen::set(&core::Sibling::tombstone),
      rc::gen::set(&core::Sibling::value, bytes()));
}

// A state that core::validate accepts (decoding refuses the others; the refusal cases below
// cover those): distinct members, 2..64 partitions, owners among the members, one address per
// node id, moves with an address and a version, valid zones (none, or one per member in the ring).
rc::Gen<core::ClusterState> cluster_state() {
  return rc::gen::exec([] {
    core::ClusterState state;
    state.cluster_id = *number<uint64_t>();
    state.ring_version = std::max<uint64_t>(*number<uint64_t>(), 1);
    state.members = *rc::gen::nonEmpty(rc::gen::unique<std::vector<std::string>>(address()));
    auto log2_q = *rc::gen::inRange(1, 7);  // up to 64: larger rings take long to generate (see below)
    auto owner = rc::gen::inRange<core::MemberIndex>(0, static_cast<core::MemberIndex>(state.members.size()));
    state.owners = *rc::gen::container<std::vector<core::MemberIndex>>(size_t{1} << log2_q, owner);
    auto ids = *rc::gen::unique<std::vector<std::string>>(rc::gen::nonEmpty(bytes()));
    for (const auto& id : ids) state.node_ids.emplace(*address(), id);
    auto moved = *rc::gen::container<std::vector<std::string>>(address());
    for (const auto& name : moved) {
      state.moves.emplace(name, core::Move{*address(), std::max<uint64_t>(*number<uint64_t>(), 1)});
    }
    auto zone = rc::gen::element<std::string>("a", "b", "eu-west-1c");
    for (const auto& name : *rc::gen::container<std::vector<std::string>>(address())) state.zones.emplace(name, *zone);
    if (*rc::gen::arbitrary<bool>()) {  // placed by zones: one per member, some members without one
      auto placed = rc::gen::element<std::string>("", "a", "b");
      state.member_zones = *rc::gen::container<std::vector<std::string>>(state.members.size(), placed);
    }
    auto kind = rc::gen::element(core::DepartureKind::leave, core::DepartureKind::remove, core::DepartureKind::replace);
    for (const auto& name : *rc::gen::container<std::vector<std::string>>(address())) {
      core::Departure d{*kind, {}};
      if (d.kind == core::DepartureKind::replace) d.replacement = *address();
      state.departures.emplace(name, d);
    }
    if (*rc::gen::arbitrary<bool>()) {  // a change of owners under way, with its transfers
      state.next_owners = *rc::gen::container<std::vector<core::MemberIndex>>(state.owners.size(), owner);
      auto q = static_cast<uint32_t>(state.owners.size());
      auto k = static_cast<core::MemberIndex>(state.members.size());
      if (k > 1) {
        for (size_t i = *rc::gen::inRange<size_t>(0, 5); i > 0; --i) {
          core::Transfer t{*rc::gen::inRange<uint32_t>(0, q), *rc::gen::inRange<core::MemberIndex>(0, k), 0,
                           *number<uint64_t>(), *bytes(), *rc::gen::arbitrary<bool>()};
          t.to = (t.from + *rc::gen::inRange<core::MemberIndex>(1, k)) % k;
          state.transfers.push_back(t);
        }
      }
    }
    return state;
  });
}

}  // namespace
}  // namespace md::net

// How RapidCheck makes each peer message: every field set from its own generator.
namespace rc {
using namespace md::core;
using md::net::byte_strings;
using md::net::bytes;
using md::net::maybe;
using md::net::number;
using md::net::numbers;

template <>
struct Arbitrary<ClientRequest> {
  static Gen<ClientRequest> arbitrary() {
    return gen::build<ClientRequest>(
        gen::set(&ClientRequest::op, gen::element(Op::get, Op::put, Op::del)), gen::set(&ClientRequest::key, bytes()),
        gen::set(&ClientRequest::value, bytes()), gen::set(&ClientRequest::context_token, maybe(bytes())),
        gen::set(&ClientRequest::n, maybe(number<int64_t>())), gen::set(&ClientRequest::r, maybe(number<int64_t>())),
        gen::set(&ClientRequest::w, maybe(number<int64_t>())), gen::set(&ClientRequest::sloppy_quorum),
        gen::set(&ClientRequest::supersede));
  }
};
template <>
struct Arbitrary<ClientResponse> {
  static Gen<ClientResponse> arbitrary() {
    return gen::build<ClientResponse>(
        gen::set(&ClientResponse::outcome, gen::element(Outcome::ok, Outcome::not_found, Outcome::bad_request,
                                                        Outcome::too_many_siblings, Outcome::unavailable,
                                                        Outcome::internal_error)),
        gen::set(&ClientResponse::message, bytes()),
        gen::set(&ClientResponse::siblings, gen::scale(0.1, gen::container<std::vector<Sibling>>(md::net::sibling()))),
        gen::set(&ClientResponse::context_token, bytes()), gen::set(&ClientResponse::acknowledged, number<uint32_t>()),
        gen::set(&ClientResponse::required, number<uint32_t>()));
  }
};
template <>
struct Arbitrary<Hello> {
  static Gen<Hello> arbitrary() { return gen::build<Hello>(gen::set(&Hello::node_id, bytes())); }
};
template <>
struct Arbitrary<ReplicaRead> {
  static Gen<ReplicaRead> arbitrary() {
    return gen::build<ReplicaRead>(gen::set(&ReplicaRead::id, number<RequestId>()), gen::set(&ReplicaRead::key, bytes()));
  }
};
template <>
struct Arbitrary<ReplicaReadReply> {
  static Gen<ReplicaReadReply> arbitrary() {
    return gen::build<ReplicaReadReply>(gen::set(&ReplicaReadReply::id, number<RequestId>()),
                                        gen::set(&ReplicaReadReply::ok), gen::set(&ReplicaReadReply::object, maybe(bytes())));
  }
};
template <>
struct Arbitrary<ReplicaWrite> {
  static Gen<ReplicaWrite> arbitrary() {
    return gen::build<ReplicaWrite>(gen::set(&ReplicaWrite::id, number<RequestId>()), gen::set(&ReplicaWrite::key, bytes()),
                                    gen::set(&ReplicaWrite::object, bytes()), gen::set(&ReplicaWrite::ack));
  }
};
template <>
struct Arbitrary<ReplicaWriteReply> {
  static Gen<ReplicaWriteReply> arbitrary() {
    return gen::build<ReplicaWriteReply>(gen::set(&ReplicaWriteReply::id, number<RequestId>()),
                                         gen::set(&ReplicaWriteReply::ok));
  }
};
template <>
struct Arbitrary<Forward> {
  static Gen<Forward> arbitrary() {
    return gen::build<Forward>(gen::set(&Forward::id, number<RequestId>()), gen::set(&Forward::request));
  }
};
template <>
struct Arbitrary<ForwardReply> {
  static Gen<ForwardReply> arbitrary() {
    return gen::build<ForwardReply>(gen::set(&ForwardReply::id, number<RequestId>()), gen::set(&ForwardReply::response));
  }
};
template <>
struct Arbitrary<HintedWrite> {
  static Gen<HintedWrite> arbitrary() {
    return gen::build<HintedWrite>(gen::set(&HintedWrite::id, number<RequestId>()),
                                   gen::set(&HintedWrite::owner, number<MemberIndex>()),
                                   gen::set(&HintedWrite::key, bytes()), gen::set(&HintedWrite::object, bytes()));
  }
};
template <>
struct Arbitrary<HintedWriteReply> {
  static Gen<HintedWriteReply> arbitrary() {
    return gen::build<HintedWriteReply>(gen::set(&HintedWriteReply::id, number<RequestId>()),
                                        gen::set(&HintedWriteReply::owner, number<MemberIndex>()),
                                        gen::set(&HintedWriteReply::ok));
  }
};
template <>
struct Arbitrary<Heartbeat> {
  static Gen<Heartbeat> arbitrary() { return gen::just(Heartbeat{}); }
};
template <>
struct Arbitrary<AaeTree> {
  static Gen<AaeTree> arbitrary() {
    return gen::build<AaeTree>(gen::set(&AaeTree::id, number<RequestId>()), gen::set(&AaeTree::partition, number<uint32_t>()),
                               gen::set(&AaeTree::inner, numbers<uint64_t>()));
  }
};
template <>
struct Arbitrary<AaeSegments> {
  static Gen<AaeSegments> arbitrary() {
    return gen::build<AaeSegments>(
        gen::set(&AaeSegments::id, number<RequestId>()), gen::set(&AaeSegments::partition, number<uint32_t>()),
        gen::set(&AaeSegments::inner_nodes, numbers<uint32_t>()), gen::set(&AaeSegments::segments, numbers<uint64_t>()));
  }
};
template <>
struct Arbitrary<AaeKeys> {
  static Gen<AaeKeys> arbitrary() {
    return gen::build<AaeKeys>(gen::set(&AaeKeys::id, number<RequestId>()), gen::set(&AaeKeys::partition, number<uint32_t>()),
                               gen::set(&AaeKeys::segments, numbers<uint32_t>()), gen::set(&AaeKeys::keys, byte_strings()),
                               gen::set(&AaeKeys::hashes, numbers<uint64_t>()));
  }
};
template <>
struct Arbitrary<AaePull> {
  static Gen<AaePull> arbitrary() {
    return gen::build<AaePull>(gen::set(&AaePull::partition, number<uint32_t>()), gen::set(&AaePull::keys, byte_strings()));
  }
};
template <>
struct Arbitrary<Gossip> {
  static Gen<Gossip> arbitrary() {
    return gen::build<Gossip>(gen::set(&Gossip::state, md::net::cluster_state()), gen::set(&Gossip::reply));
  }
};
template <>
struct Arbitrary<ReapCheck> {
  static Gen<ReapCheck> arbitrary() {
    return gen::build<ReapCheck>(gen::set(&ReapCheck::id, number<RequestId>()),
                                 gen::set(&ReapCheck::ring_version, number<uint64_t>()),
                                 gen::set(&ReapCheck::partition, number<uint32_t>()),
                                 gen::set(&ReapCheck::keys, byte_strings()), gen::set(&ReapCheck::hashes, numbers<uint64_t>()));
  }
};
template <>
struct Arbitrary<ReapCheckReply> {
  static Gen<ReapCheckReply> arbitrary() {
    return gen::build<ReapCheckReply>(gen::set(&ReapCheckReply::id, number<RequestId>()),
                                      gen::set(&ReapCheckReply::ready, numbers<uint32_t>()));
  }
};
template <>
struct Arbitrary<Reap> {
  static Gen<Reap> arbitrary() {
    return gen::build<Reap>(gen::set(&Reap::partition, number<uint32_t>()), gen::set(&Reap::keys, byte_strings()),
                            gen::set(&Reap::hashes, numbers<uint64_t>()));
  }
};
template <>
struct Arbitrary<ListKeys> {
  static Gen<ListKeys> arbitrary() {
    return gen::build<ListKeys>(gen::set(&ListKeys::id, number<RequestId>()), gen::set(&ListKeys::prefix, bytes()),
                                gen::set(&ListKeys::after, maybe(bytes())), gen::set(&ListKeys::limit, number<uint32_t>()),
                                gen::set(&ListKeys::n, number<uint32_t>()));
  }
};
template <>
struct Arbitrary<ListKeysReply> {
  static Gen<ListKeysReply> arbitrary() {  // an object per key, as the codec requires
    return gen::map(gen::tuple(number<RequestId>(), gen::arbitrary<bool>(), byte_strings(), gen::arbitrary<bool>()),
                    [](const std::tuple<RequestId, bool, std::vector<std::string>, bool>& t) {
                      ListKeysReply r{std::get<0>(t), std::get<1>(t), std::get<2>(t), {}, std::get<3>(t)};
                      for (const auto& key : r.keys) r.objects.push_back("object of " + key);
                      return r;
                    });
  }
};
template <>
struct Arbitrary<TransferBatch> {
  static Gen<TransferBatch> arbitrary() {  // an object per key, as the codec requires
    return gen::map(gen::tuple(number<RequestId>(), number<uint32_t>(), byte_strings()),
                    [](const std::tuple<RequestId, uint32_t, std::vector<std::string>>& t) {
                      TransferBatch b{std::get<0>(t), std::get<1>(t), std::get<2>(t), {}};
                      for (const auto& key : b.keys) b.objects.push_back("object of " + key);
                      return b;
                    });
  }
};
template <>
struct Arbitrary<TransferAck> {
  static Gen<TransferAck> arbitrary() {
    return gen::build<TransferAck>(gen::set(&TransferAck::id, number<RequestId>()), gen::set(&TransferAck::ok));
  }
};
}  // namespace rc

namespace md::net {
namespace {

// One message of kind M, made, encoded, decoded and compared.
template <typename M>
void round_trips_by_value(size_t kind) {
  core::PeerMessage message(*rc::gen::arbitrary<M>());
  auto back = decode_peer_message(encode_peer_message(message));
  if (!back.is_ok()) RC_FAIL("peer message kind " + std::to_string(kind) + " does not decode: " + back.status().message());
  if (!(*back == message)) RC_FAIL("peer message kind " + std::to_string(kind) + " changed in a round trip");
}

// Every kind in every run, so that each kind meets 100 sets of values. Naming every alternative
// of PeerMessage here means a new kind does not compile without its generator.
template <size_t... Kind>
void every_kind_round_trips_by_value(std::index_sequence<Kind...>) {
  (round_trips_by_value<std::variant_alternative_t<Kind, core::PeerMessage>>(Kind), ...);
}

RC_GTEST_PROP(PeerCodec, every_message_kind_round_trips_by_value, ()) {
  every_kind_round_trips_by_value(std::make_index_sequence<std::variant_size_v<core::PeerMessage>>());
}

RC_GTEST_PROP(PeerCodec, a_cluster_state_round_trips_by_value, ()) {
  auto state = *cluster_state();
  auto back = decode_cluster_state(encode_cluster_state(state));
  RC_ASSERT(back.is_ok());
  RC_ASSERT(*back == state);
}

// Protobuf refuses a `string` field that is not UTF-8; these fields are `bytes` so that a client's
// context token (?context=%FF), a node id or a message may hold any bytes.
TEST(PeerCodec, bytes_that_are_not_utf8_round_trip) {
  core::ClientRequest request;
  request.context_token = "\xff\xfe";
  core::ClientResponse response;
  response.message = "bad \xc3";
  response.context_token = "\x80";
  for (const core::PeerMessage& m : {core::PeerMessage(core::Forward{1, request}),
                                     core::PeerMessage(core::ForwardReply{2, response}),
                                     core::PeerMessage(core::Hello{"node_\xff"})}) {
    auto back = decode_peer_message(encode_peer_message(m));
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_TRUE(*back == m);
  }
  auto state = core::founding_state(*core::Ring::create({"a:1", "b:2"}, 8));
  state.node_ids["a:1"] = "node_\xff";
  auto decoded = decode_cluster_state(encode_cluster_state(state));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().message();
  EXPECT_EQ(*decoded, state);
}

// The codecs a node decodes ride in its Hello, beside the core's node id; a Hello without them (a
// node that predates compression, or one with --compression off) says "none".
TEST(PeerCodec, a_hello_carries_the_codecs_its_sender_decodes) {
  const core::PeerMessage hello(core::Hello{"node_a"});
  uint32_t decodes = 99;
  auto back = decode_peer_message(encode_peer_message(hello, 0b110), &decodes);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_TRUE(*back == hello);
  EXPECT_EQ(decodes, 0b110u);

  wire::PeerMessage old;  // what a node without the field sends
  old.mutable_hello()->set_node_id("node_old");
  decodes = 99;
  back = decode_peer_message(old.SerializeAsString(), &decodes);
  ASSERT_TRUE(back.is_ok());
  EXPECT_TRUE(*back == core::PeerMessage(core::Hello{"node_old"}));
  EXPECT_EQ(decodes, 0u);
  // Other messages leave it alone, and the field changes nothing else a Hello encodes to.
  decodes = 99;
  ASSERT_TRUE(decode_peer_message(encode_peer_message(core::PeerMessage(core::Heartbeat{}), 0b110), &decodes).is_ok());
  EXPECT_EQ(decodes, 99u);
  // With none (--compression off) a Hello is byte for byte what it was before the field.
  old.mutable_hello()->set_node_id("node_a");
  EXPECT_EQ(encode_peer_message(hello), old.SerializeAsString());
}

TEST(PeerCodec, a_ring_of_the_most_partitions_round_trips) {
  std::vector<std::string> members = {"a:1", "b:2", "c:3"};
  std::vector<core::MemberIndex> owners(core::kPartitionsMax);
  for (size_t p = 0; p < owners.size(); ++p) owners[p] = static_cast<core::MemberIndex>(p % members.size());
  auto state = core::founding_state(*core::Ring::from_indexes(members, owners));
  state.cluster_id = std::numeric_limits<uint64_t>::max();
  state.ring_version = std::numeric_limits<uint64_t>::max();
  auto back = decode_cluster_state(encode_cluster_state(state));
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(*back, state);
}

TEST(PeerCodec, garbage_and_invalid_states_are_refused) {
  auto state = core::founding_state(*core::Ring::create({"a:1", "b:2"}, 8));
  auto broken = state;
  broken.owners[0] = 7;  // no such member: refused before the core sees it
  EXPECT_FALSE(decode_peer_message(encode_peer_message(core::Gossip{broken, true})).is_ok());
  EXPECT_FALSE(decode_cluster_state(encode_cluster_state(broken)).is_ok());
  broken = state;
  broken.next_owners = state.owners;
  broken.transfers.push_back(core::Transfer{0, 1, 1, 0, {}, false});  // from a member to itself
  EXPECT_FALSE(decode_cluster_state(encode_cluster_state(broken)).is_ok());
  broken.transfers.clear();
  broken.next_owners.pop_back();  // next owners that do not cover every partition
  EXPECT_FALSE(decode_cluster_state(encode_cluster_state(broken)).is_ok());
  broken = state;
  broken.departures["a:1"] = core::Departure{core::DepartureKind::replace, {}};  // replaced by no one
  EXPECT_FALSE(decode_cluster_state(encode_cluster_state(broken)).is_ok());
  wire::ClusterState unknown_kind;
  ASSERT_TRUE(unknown_kind.ParseFromString(encode_cluster_state(state)));
  (*unknown_kind.mutable_departures())["a:1"].set_kind(257);  // would wrap to leave as a byte
  EXPECT_FALSE(decode_cluster_state(unknown_kind.SerializeAsString()).is_ok());
  EXPECT_FALSE(decode_cluster_state("\x08garbage").is_ok());
  EXPECT_FALSE(decode_peer_message("\xff\xff\xff garbage").is_ok());
  EXPECT_FALSE(decode_peer_message("").is_ok());  // no message kind
}

}  // namespace
}  // namespace md::net
