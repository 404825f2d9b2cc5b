// A stored object, as read from disk or from a peer: decoding must refuse garbage cleanly; what
// decodes must encode to bytes that decode to the same object; and the in-place tombstone reader
// must agree with the full decoder on every object that decodes, as must the values-free copy a
// key listing sends (without_values): it decodes, with the same context and the same deletedness.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/object_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto counter = md::core::deleted_object_counter(bytes);
  auto object = md::core::decode_object(bytes);
  if (!object.is_ok()) return 0;
  auto encoded = md::core::encode_object(*object);
  auto again = md::core::decode_object(encoded);
  assert(again.is_ok() && *again == *object);
  assert(md::core::encode_object(*again) == encoded);

  const auto& siblings = object->siblings();
  bool deleted = std::all_of(siblings.begin(), siblings.end(), [](const auto& s) { return s.tombstone; });
  uint64_t max = 0;
  for (const auto& [node, c] : object->context().entries()) max = std::max(max, c);
  assert(counter == (deleted ? std::optional<uint64_t>(max) : std::nullopt));

  auto stripped = md::core::without_values(bytes);
  assert(stripped.has_value());
  auto light = md::core::decode_object(*stripped);
  assert(light.is_ok() && light->context() == object->context() && light->deleted() == deleted);
  return 0;
}
