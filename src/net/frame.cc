#include "net/frame.h"

#include <xxhash.h>

namespace md::net {
namespace {

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string encode_frame(std::string_view payload) {
  std::string frame;
  frame.reserve(kFrameHeaderBytes + payload.size());
  put_u32(frame, static_cast<uint32_t>(payload.size()));
  put_u32(frame, XXH32(payload.data(), payload.size(), 0));
  frame.append(payload);
  return frame;
}

Result<std::optional<std::string>> FrameDecoder::next() {
  if (!failed_.is_ok()) return failed_;
  size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return std::optional<std::string>();
  const char* header = buffer_.data() + consumed_;
  uint32_t length = get_u32(header);
  if (length > max_) {
    failed_ = Status::too_large("peer frame of " + std::to_string(length) + " bytes is over the limit of " +
                                std::to_string(max_));
    return failed_;
  }
  if (available < kFrameHeaderBytes + length) return std::optional<std::string>();
  std::string payload(header + kFrameHeaderBytes, length);
  if (XXH32(payload.data(), payload.size(), 0) != get_u32(header + 4)) {
    failed_ = Status::corruption("peer frame checksum mismatch");
    return failed_;
  }
  consumed_ += kFrameHeaderBytes + length;
  if (consumed_ > 64 * 1024 && consumed_ * 2 > buffer_.size()) {  // compact now and then, not per frame
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

}  // namespace md::net
