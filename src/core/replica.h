// What a replica does to its stored copy of a key: the pure step inside the storage engine's
// atomic read-modify-write.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/messages.h"
#include "core/status.h"

namespace md::core {

// What an update makes of a key's stored bytes.
struct Applied {
  std::optional<std::string> bytes;  // nullopt: nothing changes (no write, no fsync)
  // A merge met a write under a dot this copy holds with other contents (two nodes under one id,
  // a protocol violation): both are kept as siblings, and the caller counts and reports it.
  bool dot_collision = false;
};

// Computes the bytes to store for a key from what is stored now (nullopt: nothing).
//  - CoordinatorWrite: makes the next dot of its actor (dvv_set.h) and refuses, with
//    Code::conflict, a write that would leave more than its siblings_max siblings; the stored
//    siblings stay as they are.
//  - MergeWrite: merges the incoming object; merges are never refused, so no replica drops data.
//  - RemoveKey is not an update (the engine removes the key): Code::invalid_argument.
// Returns Code::corruption for bytes that do not decode.
Result<Applied> apply_update(std::optional<std::string_view> current, const StorageUpdate& update);

}  // namespace md::core
