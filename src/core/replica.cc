#include "core/replica.h"

#include "core/object_codec.h"

namespace md::core {

Result<Applied> apply_update(std::optional<std::string_view> current, const StorageUpdate& update) {
  DvvSet object;
  if (current) {
    auto decoded = decode_object(*current);
    if (!decoded.is_ok()) return decoded.status();
    object = std::move(decoded).value();
  }

  if (const auto* write = std::get_if<CoordinatorWrite>(&update)) {
    // A delete without context covers what this node has, as does a superseding put; a blind put
    // covers nothing.
    const bool covers_stored = write->tombstone || write->supersede;
    VersionVector context = write->context ? *write->context : (covers_stored ? object.context() : VersionVector());
    object.update(context, write->actor, write->tombstone, write->value, write->dot_floor);
    if (object.siblings().size() > write->siblings_max) {
      return Status::conflict("the key has reached its limit of " + std::to_string(write->siblings_max) +
                              " siblings; read it and write back with the read's context to resolve them");
    }
    return Applied{encode_object(object)};
  }

  const auto* merge = std::get_if<MergeWrite>(&update);
  if (merge == nullptr) return Status::invalid_argument("a removal is not an update: the engine removes the key");
  auto incoming = decode_object(merge->object);
  if (!incoming.is_ok()) return incoming.status();
  DvvSet merged = object;
  merged.merge(*incoming);
  const bool collision = merged.dot_collisions() > object.dot_collisions();
  if (current && merged == object) return Applied{};
  return Applied{encode_object(merged), collision};
}

}  // namespace md::core
