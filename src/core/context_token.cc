#include "core/context_token.h"

#include <xxhash.h>

#include <array>

#include "core/bytes.h"

namespace md::core {
namespace {

constexpr uint8_t kVersion = 1;
constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  return out;
}

bool base64url_decode(std::string_view in, std::string* out) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
    return t;
  }();
  if (in.size() % 4 == 1) return false;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    int v = table[c];
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out->push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  return (acc & ((1u << bits) - 1)) == 0;  // leftover bits must be zero, so each token has one spelling
}

uint32_t checksum(std::string_view bytes) { return XXH32(bytes.data(), bytes.size(), 0); }

}  // namespace

std::string encode_context_token(const VersionVector& context) {
  std::string raw;
  raw.push_back(static_cast<char>(kVersion));
  put_varint(raw, context.entries().size());
  for (const auto& [node, counter] : context.entries()) {
    put_bytes(raw, node);
    put_varint(raw, counter);
  }
  uint32_t sum = checksum(raw);
  for (int i = 0; i < 4; ++i) raw.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return base64url_encode(raw);
}

Result<VersionVector> decode_context_token(std::string_view token) {
  auto bad = [](const char* why) {
    return Status::invalid_argument(std::string("context token is malformed (") + why +
                                    "); pass back the context from a read unchanged");
  };
  std::string raw;
  if (token.size() > 64 * 1024) return bad("too long");
  if (!base64url_decode(token, &raw)) return bad("not base64url");
  if (raw.size() < 5) return bad("too short");
  std::string_view body(raw.data(), raw.size() - 4);
  uint32_t sum = 0;
  for (int i = 0; i < 4; ++i) sum |= static_cast<uint32_t>(static_cast<uint8_t>(raw[body.size() + i])) << (8 * i);
  if (sum != checksum(body)) return bad("checksum mismatch");
  ByteReader in(body);
  uint8_t version = 0;
  uint64_t n = 0;
  if (!in.byte(&version) || version != kVersion) return bad("unknown version");
  if (!in.varint(&n) || n > in.remaining()) return bad("entry count");
  VersionVector vv;
  std::string_view previous;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view node;
    uint64_t counter = 0;
    if (!in.bytes(&node) || node.empty() || !in.varint(&counter) || counter == 0) return bad("entry");
    if (i > 0 && node <= previous) return bad("entry order");
    previous = node;
    vv.raise(node, counter);
  }
  if (!in.at_end()) return bad("trailing bytes");
  return vv;
}

}  // namespace md::core
