// Frames on the peer wire: u32 payload length (little endian) | u32 XXH32(payload) | payload.
//
// The decoder is incremental and bounded: it rejects a length over its maximum as soon as the
// header arrives (Code::too_large), and a checksum mismatch (Code::corruption); after an error it
// stays failed, and the connection must be closed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace md::net {

inline constexpr size_t kFrameHeaderBytes = 8;

std::string encode_frame(std::string_view payload);

class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t payload_bytes_max) : max_(payload_bytes_max) {}
  void feed(const char* data, size_t size) { buffer_.append(data, size); }
  // The next complete payload; nullopt when more bytes are needed.
  Result<std::optional<std::string>> next();

 private:
  uint32_t max_;
  std::string buffer_;
  size_t consumed_ = 0;
  Status failed_;
};

}  // namespace md::net
