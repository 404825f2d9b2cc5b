// The one hash that places keys on the ring: XXH3, 64 bits, seed 0.
//
// Every process must agree on it forever: changing it moves every key.
#pragma once

#include <cstdint>
#include <string_view>

namespace md::core {

uint64_t key_hash(std::string_view key);

}  // namespace md::core
