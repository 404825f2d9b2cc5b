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

// Computes the bytes to store for a key from what is stored now (nullopt: nothing).
//  - CoordinatorWrite: makes the next dot of `node_id` (dvv_set.h) and refuses, with
//    Code::conflict, a write that would leave more than `siblings_max` siblings; the stored
//    siblings stay as they are.
//  - MergeWrite: merges the incoming object; merges are never refused, so no replica drops data.
//  - RemoveKey is not an update (the engine removes the key): Code::invalid_argument.
// Returns nullopt when nothing changes (no write, no fsync), and Code::corruption for bytes that
// do not decode.
Result<std::optional<std::string>> apply_update(std::optional<std::string_view> current, const StorageUpdate& update,
                                                const std::string& node_id, uint32_t siblings_max);

}  // namespace md::core
