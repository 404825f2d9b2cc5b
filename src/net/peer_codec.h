// Peer messages to and from bytes (protobuf, peer.proto). Decoding rejects what it does not
// understand (unknown message, out-of-range enum) with Code::corruption, so a confused or
// hostile peer cannot make the core act on garbage.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/messages.h"
#include "core/status.h"

namespace md::net {

// A Hello carries, beside the core's node id, the frame codecs this node decodes (`hello_decodes`,
// net/compression.h's CodecSet): the transport's business, which the core never sees. Decoding a
// Hello stores them in *hello_decodes (0 when the sender did not say: it predates compression).
std::string encode_peer_message(const core::PeerMessage& message, uint32_t hello_decodes = 0);
Result<core::PeerMessage> decode_peer_message(std::string_view bytes, uint32_t* hello_decodes = nullptr);

// A cluster state alone: kept in the data dir, and the answer to a join request. Decoding also
// validates it (core::validate).
std::string encode_cluster_state(const core::ClusterState& state);
Result<core::ClusterState> decode_cluster_state(std::string_view bytes);

}  // namespace md::net
