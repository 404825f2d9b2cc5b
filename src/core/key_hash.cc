#include "core/key_hash.h"

#include <xxhash.h>

namespace md::core {

uint64_t key_hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace md::core
