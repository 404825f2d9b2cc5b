// Striped per-key locks: updates of one key serialise, different keys rarely share a stripe.
#pragma once

#include <xxhash.h>

#include <mutex>
#include <string_view>
#include <vector>

namespace md::storage {

class KeyLock {
 public:
  explicit KeyLock(size_t stripes) : stripes_(stripes == 0 ? 1 : stripes) {}
  size_t stripe_of(std::string_view storage_key) const {
    return XXH3_64bits(storage_key.data(), storage_key.size()) % stripes_.size();
  }
  std::mutex& stripe(size_t index) { return stripes_[index]; }

 private:
  std::vector<std::mutex> stripes_;
};

// The on-disk key: a 2-byte big-endian partition, then the user's key, so partitions sort apart.
inline std::string storage_key(uint32_t partition, std::string_view key) {
  std::string k;
  k.reserve(2 + key.size());
  k.push_back(static_cast<char>((partition >> 8) & 0xff));
  k.push_back(static_cast<char>(partition & 0xff));
  k.append(key);
  return k;
}

}  // namespace md::storage
