// Frame codec for the peer wire: length-prefixed, checksummed payloads.
//
// A frame is `u32 payload_len (little endian) | u32 checksum (little endian) | payload`,
// where checksum = XXH32(payload, seed 0). The codec is pure (no I/O): encode_frame()
// builds one frame, FrameDecoder turns a byte stream fed in arbitrary pieces back into
// payloads. The decoder refuses a length over its limit as soon as the 8-byte header is
// in, before any of the body arrives, so a peer cannot make us buffer a huge frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace md::net {

// Bytes in a frame header (length + checksum).
inline constexpr size_t kFrameHeaderBytes = 8;

// Returns the frame (header + payload) carrying `payload`.
// Requires payload.size() < 2^32.
std::string encode_frame(std::string_view payload);

// Appends the frame carrying `payload` to `out` (saves a copy when batching frames).
void append_frame(std::string& out, std::string_view payload);

// Incremental decoder for a stream of frames. Not thread-safe.
class FrameDecoder {
 public:
  // Frames whose payload is longer than payload_bytes_max are refused with Code::too_large.
  explicit FrameDecoder(uint32_t payload_bytes_max);

  // Appends received bytes. Cheap; decoding happens in next(). Ignored once failed.
  void feed(const char* data, size_t size);

  // Returns the next complete payload, nullopt when more bytes are needed, or an error:
  // Code::too_large (declared length over the max) or Code::corruption (checksum
  // mismatch). After an error the decoder stays failed and returns that error again.
  Result<std::optional<std::string>> next();

  // True once next() has returned an error.
  bool failed() const { return !error_.is_ok(); }

  // Bytes fed but not yet returned as payloads (bounded by max + header + one feed).
  size_t buffered_bytes() const { return buf_.size() - pos_; }

 private:
  uint32_t payload_bytes_max_;
  std::string buf_;  // received bytes; [pos_, end) not yet consumed
  size_t pos_ = 0;
  Status error_;
};

}  // namespace md::net
