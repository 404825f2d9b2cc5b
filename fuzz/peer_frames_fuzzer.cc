// Bytes from a peer's socket: the frame decoder, fed in pieces of fuzzer-chosen sizes, then each
// payload as a peer message. Every payload it returns must be one whole frame's, whatever the cut.
#include <cassert>
#include <cstddef>
#include <cstdint>

#include "net/frame.h"
#include "net/peer_codec.h"
#include "quiet_protobuf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t piece = 1 + data[0] % 64;  // the read size the socket happens to deliver
  constexpr uint32_t kPayloadMax = 1 << 16;
  md::net::FrameDecoder decoder(kPayloadMax);
  for (size_t at = 1; at < size && !decoder.failed(); at += piece) {
    decoder.feed(reinterpret_cast<const char*>(data) + at, std::min(piece, size - at));
    while (true) {
      auto payload = decoder.next();
      if (!payload.is_ok() || !payload->has_value()) break;
      assert((*payload)->size() <= kPayloadMax);
      (void)md::net::decode_peer_message(**payload);  // refusing garbage with a status is all it may do
    }
    assert(decoder.buffered_bytes() <= kPayloadMax + md::net::kFrameHeaderBytes + piece);
  }
  return 0;
}
