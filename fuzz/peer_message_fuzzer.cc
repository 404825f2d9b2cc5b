// A frame's payload from a peer: the protobuf message and its translation to the core's
// messages. What decodes must encode to bytes that decode again.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/peer_codec.h"
#include "quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto message = md::net::decode_peer_message(bytes);
  if (!message.is_ok()) return 0;
  auto again = md::net::decode_peer_message(md::net::encode_peer_message(*message));
  assert(again.is_ok());
  return 0;
}
