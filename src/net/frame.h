// Frame codec for the peer wire: length-prefixed, checksummed payloads.
//
// A frame is `u32 word (little endian) | u32 checksum (little endian) | body`, where
// word = body_len | codec << 29 and checksum = XXH32(body, seed 0): the checksum covers the
// bytes as they travel. Codec 0 (identity) is the frame of protocol version 1: body = payload.
// Codec 1 (zstd) and 2 (lz4, its frame format) mean body = the payload compressed with it; a
// sender uses them only towards a peer that advertised it decodes them (its Hello's `decodes`),
// so a node that predates compression, which reads such a word as a length over its limit,
// never receives one. The codec is pure (no I/O): encode_frame() builds one frame,
// FrameDecoder turns a byte stream fed in arbitrary pieces back into payloads. The decoder
// refuses a length over its limit as soon as the 8-byte header is in, before any of the body
// arrives, so a peer cannot make us buffer a huge frame; and it inflates a compressed body only
// up to the same limit (a "bomb" is refused with Code::too_large, having allocated no more).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "net/compression.h"

namespace md::net {

// Bytes in a frame header (length + checksum).
inline constexpr size_t kFrameHeaderBytes = 8;

// Body lengths are below 2^29: the word's top three bits name the codec.
inline constexpr uint32_t kFrameBodyBytesMax = (uint32_t{1} << 29) - 1;

// Returns the frame (header + payload) carrying `payload` uncompressed.
// Requires payload.size() <= kFrameBodyBytesMax.
std::string encode_frame(std::string_view payload);

// Appends the frame carrying `payload` to `out` (saves a copy when batching frames). With a codec
// other than identity and a payload of at least `min_bytes`, the body is the payload compressed
// with `codec`, unless that is not smaller. Returns the codec the frame's body is in.
Codec append_frame(std::string& out, std::string_view payload, Codec codec = Codec::identity, size_t min_bytes = 0);

// Incremental decoder for a stream of frames. Not thread-safe.
class FrameDecoder {
 public:
  // Frames whose body, or payload once inflated, is longer than payload_bytes_max are refused
  // with Code::too_large. Compressed frames (zstd, lz4) are always accepted: what a node
  // advertises only tells its peers what they may send.
  explicit FrameDecoder(uint32_t payload_bytes_max);

  // Appends received bytes. Cheap; decoding happens in next(). Ignored once failed.
  void feed(const char* data, size_t size);

  // Returns the next complete payload, nullopt when more bytes are needed, or an error:
  // Code::too_large (declared length, or inflated payload, over the max) or Code::corruption
  // (checksum mismatch, unknown codec, malformed compressed body). After an error the decoder stays failed and returns that error again.
  Result<std::optional<std::string>> next();

  // True once next() has returned an error.
  bool failed() const { return !error_.is_ok(); }

  // Bytes fed but not yet returned as payloads (bounded by max + header + one feed).
  size_t buffered_bytes() const { return buf_.size() - pos_; }

  // Payloads returned so far that arrived compressed.
  uint64_t compressed_frames() const { return compressed_frames_; }

 private:
  uint32_t payload_bytes_max_;
  std::string buf_;  // received bytes; [pos_, end) not yet consumed
  size_t pos_ = 0;
  uint64_t compressed_frames_ = 0;
  Status error_;
};

}  // namespace md::net
