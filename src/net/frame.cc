#include "net/frame.h"

#include <xxhash.h>

#include <cassert>
#include <cstring>

#include <fmt/format.h>

namespace md::net {
namespace {

void put_u32_le(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

uint32_t get_u32_le(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

Codec append_frame(std::string& out, std::string_view payload, Codec codec, size_t min_bytes) {
  assert(payload.size() <= kFrameBodyBytesMax);
  std::string compressed;
  std::string_view body = payload;
  if (codec != Codec::identity && payload.size() >= min_bytes) {
    compressed = compress(codec, payload);
    if (compressed.size() < payload.size()) {
      body = compressed;
    } else {
      codec = Codec::identity;  // incompressible: the raw payload costs less
    }
  } else {
    codec = Codec::identity;
  }
  char header[kFrameHeaderBytes];
  put_u32_le(header, static_cast<uint32_t>(body.size()) | static_cast<uint32_t>(codec) << 29);
  put_u32_le(header + 4, XXH32(body.data(), body.size(), 0));
  out.append(header, sizeof header);
  out.append(body);
  return codec;
}

std::string encode_frame(std::string_view payload) {
  std::string out;
  out.reserve(kFrameHeaderBytes + payload.size());
  append_frame(out, payload);
  return out;
}

FrameDecoder::FrameDecoder(uint32_t payload_bytes_max) : payload_bytes_max_(payload_bytes_max) {}

void FrameDecoder::feed(const char* data, size_t size) {
  if (failed()) return;
  // Compact before growing so the buffer stays about one frame long, not the whole stream.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ >= buf_.size() / 2)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(data, size);
}

Result<std::optional<std::string>> FrameDecoder::next() {
  if (failed()) return error_;
  const size_t avail = buf_.size() - pos_;
  if (avail < kFrameHeaderBytes) return std::optional<std::string>();
  const char* header = buf_.data() + pos_;
  const uint32_t word = get_u32_le(header);
  const uint32_t len = word & kFrameBodyBytesMax;
  const auto codec = static_cast<Codec>(word >> 29);
  if (len > payload_bytes_max_) {
    error_ = Status::too_large(fmt::format("frame payload of {} bytes is over the limit of {}", len, payload_bytes_max_));
    buf_.clear();
    pos_ = 0;
    return error_;
  }
  if (avail < kFrameHeaderBytes + len) return std::optional<std::string>();
  const uint32_t expected = get_u32_le(header + 4);
  const char* body = header + kFrameHeaderBytes;
  const uint32_t actual = XXH32(body, len, 0);
  if (actual != expected) {
    error_ = Status::corruption(
        fmt::format("frame checksum mismatch: header says {:08x}, payload of {} bytes hashes to {:08x}", expected, len, actual));
    buf_.clear();
    pos_ = 0;
    return error_;
  }
  if (codec == Codec::identity) {
    std::string payload(body, len);
    pos_ += kFrameHeaderBytes + len;
    return std::optional<std::string>(std::move(payload));
  }
  Status refused;
  if (codec != Codec::zstd && codec != Codec::lz4) {
    refused = Status::corruption(fmt::format("frame body in unknown codec {}", static_cast<unsigned>(codec)));
  } else {
    auto payload = decompress(codec, std::string_view(body, len), payload_bytes_max_);
    if (payload.is_ok()) {
      pos_ += kFrameHeaderBytes + len;
      ++compressed_frames_;
      return std::optional<std::string>(std::move(payload).value());
    }
    refused = payload.status().code() == Code::too_large
                  ? Status::too_large(fmt::format("{}-compressed frame of {} bytes: {}", codec_name(codec), len,
                                                  payload.status().message()))
                  : Status::corruption(fmt::format("frame of {} bytes: {}", len, payload.status().message()));
  }
  error_ = refused;
  buf_.clear();
  pos_ = 0;
  return error_;
}

}  // namespace md::net
