#include "core/hinted_handoff.h"

#include <cassert>

namespace md::core {
namespace {

constexpr char kHintKeyVersion = 1;

}  // namespace

std::string encode_hint_key(std::string_view owner, std::string_view key) {
  assert(!owner.empty() && owner.size() <= 0xffff);
  std::string out;
  out.reserve(3 + owner.size() + key.size());
  out.push_back(kHintKeyVersion);
  out.push_back(static_cast<char>(owner.size() >> 8));
  out.push_back(static_cast<char>(owner.size() & 0xff));
  out.append(owner);
  out.append(key);
  return out;
}

Result<HintAddress> decode_hint_key(std::string_view bytes) {
  if (bytes.size() < 3 || bytes[0] != kHintKeyVersion) return Status::corruption("not a hint key of version 1");
  size_t owner_size = static_cast<size_t>(static_cast<uint8_t>(bytes[1])) << 8 | static_cast<uint8_t>(bytes[2]);
  if (owner_size == 0 || bytes.size() < 3 + owner_size + 1) return Status::corruption("hint key is truncated");
  return HintAddress{std::string(bytes.substr(3, owner_size)), std::string(bytes.substr(3 + owner_size))};
}

}  // namespace md::core
