// The binary form of a DvvSet, the same on disk and on the peer wire.
//
// Version 1 layout (varints unless noted): u8 version | node-id table (count, ids) | context
// (count, (id index, counter)*) | siblings (count, each: id index, counter, u8 flags
// [bit0 tombstone], the write's context, value bytes). Node ids are interned per object so a
// context costs a few bytes. Decoding is bounded and rejects anything
// malformed with Code::corruption: unknown version, truncation, trailing bytes, an index out of
// range, a zero counter, unsorted or duplicate entries, or a sibling whose dot or context the
// object's context does not cover.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/dvv_set.h"
#include "core/status.h"

namespace md::core {

std::string encode_object(const DvvSet& object);
Result<DvvSet> decode_object(std::string_view bytes);

// For the encoding of a deleted object (every sibling a tombstone): the largest counter of its
// context, which reaping raises the node's dot floor to. nullopt when a sibling holds a value, or
// for bytes that are not an object. Reads the bytes in place, allocating nothing: the node asks
// this of every object it stores.
std::optional<uint64_t> deleted_object_counter(std::string_view bytes);
// The encoding of the same object with every sibling's value dropped (its dots, contexts and
// tombstone flags kept): what a key listing needs to merge copies and see which keys are deleted,
// without carrying their values. nullopt for bytes that are not an object.
std::optional<std::string> without_values(std::string_view bytes);

}  // namespace md::core
