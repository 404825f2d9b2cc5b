// The latest stored bytes of recently used keys, in front of an engine's own lookups.
//
// Every client read, replica read and read-modify-write starts with a get. In RocksDB a get walks
// the memtable's skiplist, whose many versions of hot keys are spread over tens of megabytes: the
// walk was the largest user-space cost of a node under load. A hash lookup here answers instead.
//
// What it promises: a hit never returns bytes older than those of a write that completed before
// the lookup. Writers keep it so by put()/erase() once their change is in the engine, while they
// still hold the key's lock. A reader that missed may fill() what it then read from the engine;
// the fill is dropped if any writer changed any key since the lookup, so a fill never overwrites a
// newer write with an older read. Bounded by bytes, least recently used out first. Thread-safe.
#pragma once

#include <rocksdb/cache.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace md::storage {

class RowCache {
 public:
  // capacity_bytes 0: nothing is cached, every lookup misses.
  explicit RowCache(uint64_t capacity_bytes);

  struct Miss {
    uint64_t generation;  // pass to fill()
  };
  // True and *value set on a hit; otherwise *miss says what fill() needs.
  bool lookup(std::string_view key, std::string* value, Miss* miss) const;
  // Keeps what a reader read from the engine after lookup() missed, unless a writer came between.
  void fill(std::string_view key, std::string_view value, Miss miss);
  // For writers, once the engine holds the key's new bytes (or no longer holds the key).
  void put(std::string_view key, std::string_view value);
  void erase(std::string_view key);

 private:
  void insert(std::string_view key, std::string_view value);

  std::shared_ptr<rocksdb::Cache> cache_;  // null when disabled
  std::mutex fill_mutex_;                  // a fill's check and insert against a writer's insert and bump
  std::atomic<uint64_t> generation_{0};    // bumped by every put() and erase()
};

}  // namespace md::storage
