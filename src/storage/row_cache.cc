#include "storage/row_cache.h"

namespace md::storage {
namespace {

// What an entry costs beyond its key and bytes: the cache's handle and the string's header.
constexpr size_t kEntryOverhead = 96;

void delete_value(const rocksdb::Slice&, void* value) { delete static_cast<std::string*>(value); }

rocksdb::Slice slice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

}  // namespace

RowCache::RowCache(uint64_t capacity_bytes) {
  // Few shards: two threads use it, and each shard must hold many entries for LRU to mean much.
  if (capacity_bytes > 0) cache_ = rocksdb::NewLRUCache(capacity_bytes, /*num_shard_bits=*/2);
}

bool RowCache::lookup(std::string_view key, std::string* value, Miss* miss) const {
  // Read before the lookup: a write that lands after it must make the caller's fill void.
  miss->generation = generation_.load(std::memory_order_acquire);
  if (!cache_) return false;
  auto* handle = cache_->Lookup(slice(key));
  if (handle == nullptr) return false;
  value->assign(*static_cast<const std::string*>(cache_->Value(handle)));
  cache_->Release(handle);
  return true;
}

void RowCache::fill(std::string_view key, std::string_view value, Miss miss) {
  if (!cache_) return;
  std::lock_guard lock(fill_mutex_);
  if (generation_.load(std::memory_order_relaxed) == miss.generation) insert(key, value);
}

void RowCache::put(std::string_view key, std::string_view value) {
  if (!cache_) return;
  std::lock_guard lock(fill_mutex_);
  insert(key, value);
  generation_.fetch_add(1, std::memory_order_release);
}

void RowCache::erase(std::string_view key) {
  if (!cache_) return;
  std::lock_guard lock(fill_mutex_);
  cache_->Erase(slice(key));
  generation_.fetch_add(1, std::memory_order_release);
}

void RowCache::insert(std::string_view key, std::string_view value) {
  auto* copy = new std::string(value);
  // On failure (only with a strict capacity limit, which this cache does not set) the cache has
  // already deleted the copy and dropped the entry; a later lookup misses, which is always safe.
  cache_->Insert(slice(key), copy, key.size() + value.size() + kEntryOverhead, &delete_value).PermitUncheckedError();
}

}  // namespace md::storage
