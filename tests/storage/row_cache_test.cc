#include "storage/row_cache.h"

#include <gtest/gtest.h>

namespace md::storage {
namespace {

// The cached bytes of key, or "<miss>".
std::string look(const RowCache& cache, std::string_view key) {
  std::string value;
  RowCache::Miss miss;
  return cache.lookup(key, &value, &miss) ? value : "<miss>";
}

TEST(RowCache, a_put_is_found_and_an_erase_forgets_it) {
  RowCache cache(1 << 20);
  EXPECT_EQ(look(cache, "k"), "<miss>");
  cache.put("k", "v1");
  cache.put("k", "v2");
  EXPECT_EQ(look(cache, "k"), "v2");
  cache.erase("k");
  EXPECT_EQ(look(cache, "k"), "<miss>");
}

TEST(RowCache, a_fill_is_kept_unless_a_writer_came_between_the_miss_and_the_fill) {
  RowCache cache(1 << 20);
  std::string value;
  RowCache::Miss miss;
  ASSERT_FALSE(cache.lookup("k", &value, &miss));
  cache.fill("k", "read", miss);
  EXPECT_EQ(look(cache, "k"), "read");

  // The reader read "old" from the engine; a writer then stored and cached "new". The late fill
  // must not put "old" back.
  ASSERT_FALSE(cache.lookup("j", &value, &miss));
  cache.put("j", "new");
  cache.fill("j", "old", miss);
  EXPECT_EQ(look(cache, "j"), "new");

  // Any write voids the fill, also one of another key, and so does an erase.
  ASSERT_FALSE(cache.lookup("x", &value, &miss));
  cache.put("other", "o");
  cache.fill("x", "read", miss);
  EXPECT_EQ(look(cache, "x"), "<miss>");
  ASSERT_FALSE(cache.lookup("x", &value, &miss));
  cache.erase("other");
  cache.fill("x", "read", miss);
  EXPECT_EQ(look(cache, "x"), "<miss>");
}

TEST(RowCache, it_holds_no_more_than_its_capacity_and_drops_the_least_recently_used) {
  RowCache cache(64 << 10);
  const std::string kilobyte(1024, 'v');
  cache.put("first", kilobyte);
  for (int i = 0; i < 1000; ++i) cache.put("key" + std::to_string(i), kilobyte);
  EXPECT_EQ(look(cache, "first"), "<miss>");
  EXPECT_EQ(look(cache, "key999"), kilobyte);
  int held = 0;
  for (int i = 0; i < 1000; ++i) held += look(cache, "key" + std::to_string(i)) != "<miss>";
  EXPECT_GT(held, 10);
  EXPECT_LE(held * 1024, 64 << 10);
}

TEST(RowCache, capacity_zero_caches_nothing) {
  RowCache cache(0);
  cache.put("k", "v");
  std::string value;
  RowCache::Miss miss;
  ASSERT_FALSE(cache.lookup("k", &value, &miss));
  cache.fill("k", "v", miss);
  EXPECT_EQ(look(cache, "k"), "<miss>");
}

}  // namespace
}  // namespace md::storage
