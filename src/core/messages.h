// What flows into and out of the core: client requests and responses, peer messages, storage
// operations and their completions, and the effects the runtime must carry out.
//
// Objects travel between nodes and to storage in their encoded form (object_codec.h), so a replica
// stores and serves bytes without re-encoding them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/dvv_set.h"
#include "core/ring.h"
#include "core/status.h"
#include "core/version_vector.h"

namespace md::core {

using RequestId = uint64_t;

enum class Op : uint8_t { get, put, del };

// A client request as the core sees it, after the HTTP layer parsed it and checked its sizes.
struct ClientRequest {
  Op op = Op::get;
  std::string key;
  std::string value;                         // put: the value's compact JSON text
  std::optional<std::string> context_token;  // as the client sent it; the core decodes it
  std::optional<int64_t> n, r, w;            // as the client sent them; the core validates them
};

enum class Outcome : uint8_t {
  ok,                 // 200
  not_found,          // 404: absent, or only tombstones
  bad_request,        // 400: the message names the parameter
  too_many_siblings,  // 409: the key is at its sibling limit; read it and write back with its context
  unavailable,        // 503: quorum not reached before the deadline (the write may still land)
  internal_error,     // 500: the local engine failed
};

struct ClientResponse {
  Outcome outcome = Outcome::ok;
  std::string message;            // for every outcome but ok and not_found
  std::vector<Sibling> siblings;  // get: the live values, sorted by dot
  std::string context_token;      // get, put, delete: pass it back with the next write
  uint32_t acknowledged = 0;      // put, delete, and 503s: replicas that acknowledged (or replied)
  uint32_t required = 0;          // 503: the quorum that was asked for
};

// Peer messages. Ids are the sender's; replies carry the id of the request they answer.
struct ReplicaRead {
  RequestId id = 0;
  std::string key;
};
struct ReplicaReadReply {
  RequestId id = 0;
  bool ok = true;                     // false: the replica's engine failed
  std::optional<std::string> object;  // encoded; nullopt when the replica has nothing
};
struct ReplicaWrite {
  RequestId id = 0;
  std::string key;
  std::string object;  // encoded; the replica merges it into what it has
  bool ack = true;     // read repair does not wait for acknowledgements
};
struct ReplicaWriteReply {
  RequestId id = 0;
  bool ok = true;
};
struct Forward {
  RequestId id = 0;
  ClientRequest request;  // with N/R/W already resolved by the forwarding node
};
struct ForwardReply {
  RequestId id = 0;
  ClientResponse response;
};
// Sent once a connection to a peer is up, so every node can show who is who.
struct Hello {
  std::string node_id;
};
// Sent to every peer every heartbeat interval; its arrivals feed the failure detector.
struct Heartbeat {};
using PeerMessage = std::variant<Hello, ReplicaRead, ReplicaReadReply, ReplicaWrite, ReplicaWriteReply, Forward,
                                 ForwardReply, Heartbeat>;

// What a storage update does to a key; apply_update() (replica.h) turns it into new bytes.
struct CoordinatorWrite {
  // nullopt: a put without context (a blind write, concurrent with everything stored), or a
  // delete without context, which covers what this node currently has (as Riak does).
  std::optional<VersionVector> context;
  bool tombstone = false;
  std::string value;
};
struct MergeWrite {
  std::string object;  // encoded
};
using StorageUpdate = std::variant<CoordinatorWrite, MergeWrite>;

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
  uint32_t partition = 0;
  std::string key;
  std::optional<StorageUpdate> update;  // nullopt: a read
};
using Effect = std::variant<SendPeer, ReplyClient, StorageOp>;

// The runtime's answer to a StorageOp.
struct StorageDone {
  RequestId op = 0;
  Status status;                      // conflict: the sibling limit refused a coordinator write
  std::optional<std::string> object;  // the encoded object now stored; nullopt when absent
};

}  // namespace md::core
