// Compressed bytes from outside (a peer frame's body, an HTTP request body): bounded decompression
// with each codec, directly and inside a frame. Byte 0 picks the codec, byte 1 the limit; the rest
// is the compressed data. Whatever the data, the output never exceeds the limit, the limit is
// exact (what inflates to n bytes is refused at n - 1), and the frame decoder agrees with the codec.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "net/compression.h"
#include "net/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto codec = static_cast<md::net::Codec>(data[0] % 4);
  const size_t limit = size_t{1} << (data[1] % 21);  // 1 byte to 1 MiB
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);

  auto out = md::net::decompress(codec, body, limit);
  if (out.is_ok()) {
    assert(out->size() <= limit);
    if (!out->empty()) {
      auto tighter = md::net::decompress(codec, body, out->size() - 1);
      assert(!tighter.is_ok() && tighter.status().code() == md::Code::too_large);
    }
  }

  // The same bytes as a frame's body, marked with the codec (the checksum covers the body as sent).
  if (codec == md::net::Codec::gzip || body.size() > limit) return 0;
  std::string frame = md::net::encode_frame(body);
  frame[3] = static_cast<char>(static_cast<uint8_t>(frame[3]) | (static_cast<uint8_t>(codec) << 5));
  md::net::FrameDecoder decoder(static_cast<uint32_t>(limit));
  decoder.feed(frame.data(), frame.size());
  auto payload = decoder.next();
  assert(payload.is_ok() == out.is_ok());
  if (payload.is_ok()) {
    assert(payload->has_value() && **payload == *out);
  } else {
    assert(payload.status().code() == out.status().code());
  }
  return 0;
}
