// Peer messages to and from bytes (protobuf, peer.proto). Decoding rejects what it does not
// understand (unknown message, out-of-range enum) with Code::corruption, so a confused or
// hostile peer cannot make the core act on garbage.
#pragma once

#include <string>
#include <string_view>

#include "core/messages.h"
#include "core/status.h"

namespace md::net {

std::string encode_peer_message(const core::PeerMessage& message);
Result<core::PeerMessage> decode_peer_message(std::string_view bytes);

// A cluster state alone: kept in the data dir, and the answer to a join request. Decoding also
// validates it (core::validate).
std::string encode_cluster_state(const core::ClusterState& state);
Result<core::ClusterState> decode_cluster_state(std::string_view bytes);

}  // namespace md::net
