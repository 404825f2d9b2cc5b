// What flows into and out of the core: client requests and responses, peer messages, storage
// operations and their completions, and the effects the runtime must carry out.
//
// Objects travel between nodes and to storage in their encoded form (object_codec.h), so a replica
// stores and serves bytes without re-encoding them.
#pragma once

#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/cluster_state.h"
#include "core/dvv_set.h"
#include "core/ring.h"
#include "core/status.h"
#include "core/version_vector.h"

namespace md::core {

using RequestId = uint64_t;

// `list` pages through the keys of the whole cluster in key order (core/key_lister.h); it is
// coordinated by the node asked and never forwarded.
// `inspect` reads every replica of the key and answers each one's own copy (ClientResponse::replicas)
// beside what a read at R would answer, repairing nothing: the dashboard's key inspector. It is
// coordinated by the node asked, replica or not, and never forwarded.
enum class Op : uint8_t { get, put, del, list, inspect };
inline const char* to_string(Op op) {
  constexpr const char* kNames[] = {"get", "put", "delete", "list", "inspect"};
  return kNames[static_cast<int>(op)];
}

inline constexpr uint32_t kListLimitMax = 10000;  // keys per page of a list

// A client request as the core sees it, after the HTTP layer parsed it and checked its sizes.
struct ClientRequest {
  Op op = Op::get;
  std::string key;
  std::string value;                         // put: the value's compact JSON text
  std::optional<std::string> context_token;  // as the client sent it; the core decodes it
  std::optional<int64_t> n, r, w;            // as the client sent them; the core validates them
  // Writes: true (Dynamo's sloppy quorum) lets fallback nodes holding hints for down replicas
  // count toward W; false (strict) counts only the key's own N replicas and answers 503 rather
  // than use fallbacks. Reads always ask the N replicas.
  bool sloppy_quorum = true;
  // A put without a context: false is a blind write, concurrent with every version stored (a new
  // sibling); true supersedes every version the coordinating replica holds, its own copy's version
  // vector serving as the context in the same read-modify-write (RESP's SET: repeated SETs never
  // pile up siblings, while SETs through different coordinators at once still become siblings).
  bool supersede = false;
  // list: keys starting with `key` (the prefix), in key order, strictly after `cursor` when given,
  // at most `limit` of them (1..kListLimitMax; the core refuses others).
  std::optional<std::string> cursor = std::nullopt;
  uint32_t limit = 0;
  bool operator==(const ClientRequest&) const = default;
};

enum class Outcome : uint8_t {
  ok,                 // 200
  not_found,          // 404: absent, or only tombstones
  bad_request,        // 400: the message names the parameter
  too_many_siblings,  // 409: the key is at its sibling limit; read it and write back with its context
  unavailable,        // 503: quorum not reached before the deadline (the write may still land)
  internal_error,     // 500: the local engine failed
  // With --security on, the runtime's gate answers these before the core sees the request:
  unauthenticated,    // 401: no credentials, or wrong ones
  forbidden,          // 403: the user has no grant for this key and operation
  rate_limited,       // 429: too many failed attempts from the client's address
};

// Op::inspect: one replica's own copy of the key.
struct ReplicaCopy {
  enum class State : uint8_t { copy, missing, unreachable, error };  // error: its engine failed, or a bad object
  MemberIndex member = 0;
  State state = State::missing;
  std::string object;  // encoded (core/object_codec.h), with State::copy
  bool operator==(const ReplicaCopy&) const = default;
};

struct ClientResponse {
  Outcome outcome = Outcome::ok;
  std::string message;            // for every outcome but ok and not_found
  std::vector<Sibling> siblings;  // get: the live values, sorted by dot
  std::string context_token;      // get, put, delete: pass it back with the next write
  uint32_t acknowledged = 0;      // put, delete, and 503s: replicas that acknowledged (or replied)
  uint32_t required = 0;          // 503: the quorum that was asked for
  // Op::inspect: every replica in preference-list order. The read at R is siblings and
  // context_token (the merge of the first R replies to arrive), acknowledged (its replies, fewer
  // than required = R if R were not reached). Never on the wire: inspects are not forwarded.
  std::vector<ReplicaCopy> replicas;
  // Op::list: the page's live keys, in order, and where the next page starts (pass it back as the
  // request's cursor); nullopt when the listing is complete.
  std::vector<std::string> keys = {};
  std::optional<std::string> next_cursor = std::nullopt;
  bool operator==(const ClientResponse&) const = default;
};

// Peer messages. Ids are the sender's; replies carry the id of the request they answer.
struct ReplicaRead {
  RequestId id = 0;
  std::string key;
  bool operator==(const ReplicaRead&) const = default;
};
struct ReplicaReadReply {
  RequestId id = 0;
  bool ok = true;                     // false: the replica's engine failed
  std::optional<std::string> object;  // encoded; nullopt when the replica has nothing
  bool operator==(const ReplicaReadReply&) const = default;
};
struct ReplicaWrite {
  RequestId id = 0;
  std::string key;
  std::string object;  // encoded; the replica merges it into what it has
  bool ack = true;     // read repair does not wait for acknowledgements
  bool operator==(const ReplicaWrite&) const = default;
};
struct ReplicaWriteReply {
  RequestId id = 0;
  bool ok = true;
  bool operator==(const ReplicaWriteReply&) const = default;
};
struct Forward {
  RequestId id = 0;
  ClientRequest request;  // with N/R/W already resolved by the forwarding node
  bool operator==(const Forward&) const = default;
};
struct ForwardReply {
  RequestId id = 0;
  ClientResponse response;
  bool operator==(const ForwardReply&) const = default;
};
// A write for `owner`, a replica of the key that is down, sent to a fallback node: the fallback
// keeps it in its hint store (not as its own data), acknowledges it, and hands it to the owner
// (as a ReplicaWrite) once the owner is reachable again.
struct HintedWrite {
  RequestId id = 0;
  MemberIndex owner = 0;
  std::string key;
  std::string object;  // encoded
  bool operator==(const HintedWrite&) const = default;
};
struct HintedWriteReply {
  RequestId id = 0;
  MemberIndex owner = 0;
  bool ok = true;  // false: refused (hint store full) or the engine failed
  bool operator==(const HintedWriteReply&) const = default;
};
// Sent once a connection to a peer is up, so every node can show who is who.
struct Hello {
  std::string node_id;
  bool operator==(const Hello&) const = default;
};
// Sent to every peer every heartbeat interval; its arrivals feed the failure detector.
struct Heartbeat {
  bool operator==(const Heartbeat&) const = default;
};
// Anti-entropy (core/anti_entropy.h), one exchange between two replicas of a partition:
// the initiator sends its tree's inner hashes...
struct AaeTree {
  RequestId id = 0;
  uint32_t partition = 0;
  std::vector<uint64_t> inner;  // kFanout hashes
  bool operator==(const AaeTree&) const = default;
};
// ...the peer answers with its segment hashes under the inner nodes that differ...
struct AaeSegments {
  RequestId id = 0;
  uint32_t partition = 0;
  std::vector<uint32_t> inner_nodes;
  std::vector<uint64_t> segments;  // kSegmentsPerInner per inner node, in order
  bool operator==(const AaeSegments&) const = default;
};
// ...the initiator sends the keys and object hashes of the segments that differ; the peer sends
// back (as ReplicaWrites without acknowledgement) its objects that the initiator lacks or has
// differently, and pulls the initiator's for the keys it lacks or has differently.
struct AaeKeys {
  RequestId id = 0;
  uint32_t partition = 0;
  std::vector<uint32_t> segments;
  std::vector<std::string> keys;
  std::vector<uint64_t> hashes;  // object_hash per key
  bool operator==(const AaeKeys&) const = default;
};
struct AaePull {
  uint32_t partition = 0;
  std::vector<std::string> keys;
  bool operator==(const AaePull&) const = default;
};
// Membership gossip: the sender's cluster state; the receiver merges it and, when `reply` is set
// and its own state differed, answers with the merge (push-pull).
struct Gossip {
  ClusterState state;
  bool reply = true;
  bool operator==(const Gossip&) const = default;
};
// Tombstone reaping (core/tombstone_reaper.h), one round for some tombstones of a partition: its
// reaper asks every member whether they may go...
struct ReapCheck {
  RequestId id = 0;
  uint64_t ring_version = 0;  // a member serving another ring answers that none may
  uint32_t partition = 0;
  std::vector<std::string> keys;
  std::vector<uint64_t> hashes;  // object_hash of each key's tombstone at the reaper
  bool operator==(const ReapCheck&) const = default;
};
// ...each member answers which may: it has held exactly that tombstone for the grace period (or
// holds no data of the partition at all), and it holds no hint for the key...
struct ReapCheckReply {
  RequestId id = 0;
  std::vector<uint32_t> ready;  // indexes into the check's keys, ascending
  bool operator==(const ReapCheckReply&) const = default;
};
// ...and the reaper tells every member to remove those all members said may go; each removes a
// key only if it still holds exactly that tombstone.
struct Reap {
  uint32_t partition = 0;
  std::vector<std::string> keys;
  std::vector<uint64_t> hashes;
  bool operator==(const Reap&) const = default;
};
// Key listing (core/key_lister.h): the coordinator asks every member for the first keys it holds
// after a point...
struct ListKeys {
  RequestId id = 0;
  std::string prefix;
  std::optional<std::string> after;  // strictly after this key; nullopt: from the first with the prefix
  uint32_t limit = 0;                // at most this many keys
  uint32_t n = 0;                    // a member lists the partitions it is among the first n replicas of
  bool operator==(const ListKeys&) const = default;
};
// ...and each answers them in key order, with each key's object stripped of its values (enough to
// merge the replicas' copies and see which keys are deleted everywhere).
struct ListKeysReply {
  RequestId id = 0;
  bool ok = true;  // false: the member's engine failed
  std::vector<std::string> keys;
  std::vector<std::string> objects;  // encoded (object_codec.h), values dropped; one per key
  bool more = false;                 // it holds such keys after the last one sent
  bool operator==(const ListKeysReply&) const = default;
};
// Partition transfer (core/transfers.h): the source sends a batch of a partition's objects, in
// key order after the transfer's cursor...
struct TransferBatch {
  RequestId id = 0;
  uint32_t partition = 0;
  std::vector<std::string> keys;
  std::vector<std::string> objects;  // encoded, one per key; the receiver merges each
  bool operator==(const TransferBatch&) const = default;
};
// ...and the receiver acknowledges it once every object is stored (durably, as a replica write).
struct TransferAck {
  RequestId id = 0;
  bool ok = true;  // false: the receiver's engine failed
  bool operator==(const TransferAck&) const = default;
};
using PeerMessage = std::variant<Hello, ReplicaRead, ReplicaReadReply, ReplicaWrite, ReplicaWriteReply, Forward,
                                 ForwardReply, HintedWrite, HintedWriteReply, Heartbeat, AaeTree, AaeSegments,
                                 AaeKeys, AaePull, Gossip, ReapCheck, ReapCheckReply, Reap, ListKeys, ListKeysReply,
                                 TransferBatch, TransferAck>;
// A name per kind of peer message, by its index in PeerMessage (traces, metrics).
inline constexpr const char* kPeerMessageNames[] = {
    "hello", "replica_read", "read_reply", "replica_write", "write_reply", "forward", "forward_reply",
    "hinted_write", "hinted_write_reply", "heartbeat", "aae_tree", "aae_segments", "aae_keys", "aae_pull",
    "gossip", "reap_check", "reap_check_reply", "reap", "list_keys", "list_keys_reply", "transfer_batch",
    "transfer_ack"};
static_assert(std::size(kPeerMessageNames) == std::variant_size_v<PeerMessage>, "a name per peer message");
inline const char* message_name(const PeerMessage& m) { return kPeerMessageNames[m.index()]; }

// What a storage update does to a key; apply_update() (replica.h) turns it into new bytes.
struct CoordinatorWrite {
  // nullopt: a put without context, which is a blind write (concurrent with everything stored)
  // unless it supersedes; or a delete without context, which covers what this node currently has
  // (as Riak does).
  std::optional<VersionVector> context;
  bool tombstone = false;
  std::string value;
  uint64_t dot_floor = 0;  // the new dot's counter is above this (DvvSet::update)
  std::string actor;       // the new dot's id: the node's actor in its current epoch (actor_epoch.h)
  uint32_t siblings_max = 0;  // the write is refused if it would leave more siblings than this
  bool supersede = false;     // a put without context covers what this node has (ClientRequest::supersede)
};
struct MergeWrite {
  std::string object;  // encoded
};
// Removes the key: a hint the owner has acknowledged, or (with if_hash) a reaped tombstone, which
// is removed only if the stored object's object_hash still equals if_hash. The node issues it only
// while no update of the key is in flight, so the runtime may carry it out at once.
struct RemoveKey {
  std::optional<uint64_t> if_hash;
};
using StorageUpdate = std::variant<CoordinatorWrite, MergeWrite, RemoveKey>;

// Effects the runtime carries out, in order.
struct SendPeer {
  MemberIndex to = 0;
  PeerMessage message;
};
struct ReplyClient {
  RequestId client = 0;  // the id the runtime gave with on_client_request
  ClientResponse response;
};
struct StorageOp {
  RequestId op = 0;
  uint32_t partition = 0;  // a ring partition (< Q), or kHintPartition (hinted_handoff.h): the hint store
  std::string key;
  std::optional<StorageUpdate> update;  // nullopt: a read
};
// Reads every key (and its object) of some segments of a partition, for anti-entropy.
struct ScanSegments {
  RequestId op = 0;
  uint32_t partition = 0;
  std::vector<uint32_t> segments;  // sorted
};
// Reads the first `limit` keys starting with `prefix` (strictly after `after` when given) across
// some partitions, in key order, each with its object stripped of values (core::without_values):
// a page of a key listing, in memory bounded by `limit`. With `values` (one partition: a transfer's
// batch), objects come whole, and the page also ends once it holds `bytes_max` bytes of them.
struct ScanKeys {
  RequestId op = 0;
  std::vector<uint32_t> partitions;
  std::string prefix;
  std::optional<std::string> after;
  uint32_t limit = 0;
  bool values = false;
  uint64_t bytes_max = 0;
};
// The cluster state changed (a new ring version, or a node announced): keep it, so a restart
// serves by it; a new ring's members are peers to connect to.
struct SaveClusterState {
  ClusterState state;
};
// The node's dot floor rose (DvvSet::update; it is about to remove reaped tombstones): keep it
// durably before carrying out the effects after this one, and pass it back after a restart.
struct SaveDotFloor {
  uint64_t floor = 0;
};
// Something an operator must hear about (e.g. two nodes claiming one node id): the runtime logs
// it, the simulator traces it. Said once per distinct message.
struct Warn {
  std::string message;
};
using Effect =
    std::variant<SendPeer, ReplyClient, StorageOp, ScanSegments, ScanKeys, SaveClusterState, SaveDotFloor, Warn>;

// The runtime's answer to a StorageOp.
struct StorageDone {
  RequestId op = 0;
  Status status;                      // conflict: the sibling limit refused a coordinator write
  std::optional<std::string> object;  // the encoded object now stored; nullopt when absent
  uint64_t previous_hash = 0;         // an update or removal: object_hash of the bytes it replaced (0: absent)
  bool dot_collision = false;         // an update's merge kept two writes made under one dot (core/replica.h)
};

// The runtime's answer to a ScanSegments (the keys of those segments with their objects) or a
// ScanKeys (the page's keys with their objects stripped of values).
struct ScanDone {
  RequestId op = 0;
  Status status;
  std::vector<std::pair<std::string, std::string>> entries;
  bool more = false;  // ScanKeys: keys past the last entry were left unread
};

}  // namespace md::core
