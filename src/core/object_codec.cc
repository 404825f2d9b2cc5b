#include "core/object_codec.h"

#include <algorithm>
#include <map>

#include "core/bytes.h"

namespace md::core {
namespace {

constexpr uint8_t kVersion = 1;
constexpr uint8_t kTombstone = 1;

void put_vv(std::string& out, const VersionVector& vv, const std::map<std::string_view, uint64_t>& index) {
  put_varint(out, vv.entries().size());
  for (const auto& [node, counter] : vv.entries()) {
    put_varint(out, index.at(node));
    put_varint(out, counter);
  }
}

bool read_vv(ByteReader& in, const std::vector<std::string_view>& ids, VersionVector* vv) {
  uint64_t n = 0;
  if (!in.varint(&n) || n > ids.size()) return false;
  uint64_t previous = 0;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t idx = 0, counter = 0;
    if (!in.varint(&idx) || !in.varint(&counter) || idx >= ids.size() || counter == 0) return false;
    if (i > 0 && idx <= previous) return false;  // ids are sorted, so indexes strictly increase
    previous = idx;
    vv->raise(ids[idx], counter);
  }
  return true;
}

// Skips a context, keeping the largest counter in *max.
bool skip_vv(ByteReader& in, uint64_t* max) {
  uint64_t n = 0;
  if (!in.varint(&n)) return false;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t idx = 0, counter = 0;
    if (!in.varint(&idx) || !in.varint(&counter)) return false;
    *max = std::max(*max, counter);
  }
  return true;
}

}  // namespace

std::string encode_object(const DvvSet& object) {
  // Every id of a sibling's dot or context also appears in the object's context: its ids are the table.
  std::map<std::string_view, uint64_t> index;
  for (const auto& [node, counter] : object.context().entries()) index.emplace(node, index.size());

  std::string out;
  out.push_back(static_cast<char>(kVersion));
  put_varint(out, index.size());
  for (const auto& [node, counter] : object.context().entries()) put_bytes(out, node);
  put_vv(out, object.context(), index);
  put_varint(out, object.siblings().size());
  for (const auto& s : object.siblings()) {
    put_varint(out, index.at(s.dot.node));
    put_varint(out, s.dot.counter);
    out.push_back(static_cast<char>(s.tombstone ? kTombstone : 0));
    put_vv(out, s.context, index);
    put_bytes(out, s.value);
  }
  return out;
}

Result<DvvSet> decode_object(std::string_view bytes) {
  auto bad = [](const char* what) { return Status::corruption(std::string("stored object is malformed: ") + what); };
  ByteReader in(bytes);
  uint8_t version = 0;
  if (!in.byte(&version)) return bad("empty");
  if (version != kVersion) return bad("unknown version");
  uint64_t n_ids = 0;
  if (!in.varint(&n_ids) || n_ids > in.remaining()) return bad("node table");
  // Grown as parsed, not sized from the counts: a count is the sender's claim, and sized from it a
  // 16 MiB object could ask for gigabytes before its bytes ran out.
  std::vector<std::string_view> ids;
  for (uint64_t i = 0; i < n_ids; ++i) {
    if (!in.bytes(&ids.emplace_back()) || ids.back().empty()) return bad("node id");
  }
  if (!std::is_sorted(ids.begin(), ids.end()) || std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return bad("node table order");
  }
  VersionVector context;
  if (!read_vv(in, ids, &context)) return bad("context");
  uint64_t n_siblings = 0;
  if (!in.varint(&n_siblings) || n_siblings > in.remaining()) return bad("sibling count");
  std::vector<Sibling> siblings;
  for (uint64_t i = 0; i < n_siblings; ++i) {
    auto& s = siblings.emplace_back();
    uint64_t idx = 0;
    uint8_t flags = 0;
    std::string_view value;
    if (!in.varint(&idx) || idx >= ids.size() || !in.varint(&s.dot.counter) || s.dot.counter == 0) return bad("dot");
    s.dot.node = std::string(ids[idx]);
    if (!context.covers(s.dot)) return bad("dot outside context");
    if (!in.byte(&flags) || flags > kTombstone) return bad("sibling flags");
    s.tombstone = (flags & kTombstone) != 0;
    if (!read_vv(in, ids, &s.context) || !context.descends(s.context)) return bad("sibling context");
    if (!in.bytes(&value)) return bad("value");
    s.value = std::string(value);
  }
  if (!in.at_end()) return bad("trailing bytes");
  // Strictly in sibling_order: sorted by dot, and two siblings share a dot only if their contents
  // differ (a dot made twice, kept by merge: dvv_set.h).
  if (std::adjacent_find(siblings.begin(), siblings.end(),
                         [](const Sibling& x, const Sibling& y) { return !sibling_order(x, y); }) != siblings.end()) {
    return bad("sibling order");
  }
  return DvvSet::from_parts(std::move(context), std::move(siblings));
}

std::optional<uint64_t> deleted_object_counter(std::string_view bytes) {
  ByteReader in(bytes);
  uint8_t version = 0;
  uint64_t n = 0, max = 0;
  if (!in.byte(&version) || version != kVersion || !in.varint(&n)) return std::nullopt;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view id;
    if (!in.bytes(&id)) return std::nullopt;
  }
  if (!skip_vv(in, &max) || !in.varint(&n)) return std::nullopt;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t idx = 0, counter = 0, ignored = 0;
    uint8_t flags = 0;
    std::string_view value;
    if (!in.varint(&idx) || !in.varint(&counter) || !in.byte(&flags) || (flags & kTombstone) == 0) return std::nullopt;
    if (!skip_vv(in, &ignored) || !in.bytes(&value)) return std::nullopt;
  }
  return max;
}

std::optional<std::string> without_values(std::string_view bytes) {
  auto object = decode_object(bytes);
  if (!object.is_ok()) return std::nullopt;
  std::vector<Sibling> siblings = object->siblings();
  for (auto& sibling : siblings) sibling.value.clear();
  // Siblings that shared a dot (a collision) were ordered by their values: order them again, and
  // keep one of any that are now equal.
  std::sort(siblings.begin(), siblings.end(), sibling_order);
  siblings.erase(std::unique(siblings.begin(), siblings.end()), siblings.end());
  return encode_object(DvvSet::from_parts(object->context(), std::move(siblings)));
}

}  // namespace md::core
