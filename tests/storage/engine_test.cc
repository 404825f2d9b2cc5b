// One suite, run against both engines.
#include "storage/engine.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

namespace md::storage {
namespace {

namespace fs = std::filesystem;

// Writes `value`, whatever is stored.
UpdateFn set(std::string value) {
  return [value](std::optional<std::string_view>) -> Result<std::optional<std::string>> { return std::optional(value); };
}

class EngineTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("md-engine-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    engine_ = open();
  }
  void TearDown() override {
    engine_.reset();
    fs::remove_all(dir_);
  }
  std::unique_ptr<Engine> open() {
    if (GetParam() == "memory") return make_memory_engine();
    auto e = open_rocksdb_engine(dir_.string(), Options{});
    EXPECT_TRUE(e.is_ok()) << e.status().message();
    return std::move(e).value();
  }
  std::string get(Partition p, std::string_view key) {
    std::string v;
    auto s = engine_->get(p, key, &v);
    return s.is_ok() ? v : "<" + s.message() + ">";
  }
  void put(Partition p, std::string_view key, std::string value) {
    std::string stored;
    ASSERT_TRUE(engine_->update(p, key, set(std::move(value)), &stored).is_ok());
  }
  std::vector<std::string> scan(Partition p, std::optional<std::string_view> after = std::nullopt, size_t limit = 100) {
    std::vector<std::string> keys;
    EXPECT_TRUE(engine_->for_each(p, after, [&](std::string_view k, std::string_view) {
                  keys.emplace_back(k);
                  return keys.size() < limit;
                }).is_ok());
    return keys;
  }
  fs::path dir_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(EngineTest, a_missing_key_is_not_found) {
  std::string v;
  EXPECT_EQ(engine_->get(0, "nope", &v).code(), Code::not_found);
}

TEST_P(EngineTest, update_sees_the_current_bytes_and_stores_the_new_ones) {
  std::optional<std::string> seen = "unset";
  std::string stored;
  auto record = [&](std::optional<std::string_view> current) -> Result<std::optional<std::string>> {
    seen = current ? std::optional<std::string>(std::string(*current)) : std::nullopt;
    return std::optional<std::string>("v" + std::to_string(seen ? seen->size() : 0));
  };
  ASSERT_TRUE(engine_->update(3, "k", record, &stored).is_ok());
  EXPECT_EQ(seen, std::nullopt);
  EXPECT_EQ(stored, "v0");
  ASSERT_TRUE(engine_->update(3, "k", record, &stored).is_ok());
  EXPECT_EQ(seen, "v0");
  EXPECT_EQ(get(3, "k"), "v2");
}

TEST_P(EngineTest, an_unchanged_update_writes_nothing_and_an_error_aborts) {
  put(1, "k", "old");
  std::string stored;
  auto unchanged = [](std::optional<std::string_view>) -> Result<std::optional<std::string>> { return std::optional<std::string>(); };
  ASSERT_TRUE(engine_->update(1, "k", unchanged, &stored).is_ok());
  EXPECT_EQ(stored, "old");
  auto refuse = [](std::optional<std::string_view>) -> Result<std::optional<std::string>> { return Status::conflict("no"); };
  EXPECT_EQ(engine_->update(1, "k", refuse, &stored).code(), Code::conflict);
  EXPECT_EQ(get(1, "k"), "old");
  ASSERT_TRUE(engine_->update(1, "fresh", unchanged, &stored).is_ok());
  EXPECT_EQ(get(1, "fresh"), "<no such key>");
}

TEST_P(EngineTest, a_batch_applies_in_order_and_one_refused_update_spares_the_others) {
  put(2, "a", "a0");
  auto append = [](std::string suffix) -> UpdateFn {
    return [suffix](std::optional<std::string_view> current) -> Result<std::optional<std::string>> {
      return std::optional<std::string>(std::string(current.value_or("")) + suffix);
    };
  };
  auto refuse = [](std::optional<std::string_view>) -> Result<std::optional<std::string>> { return Status::conflict("no"); };
  std::vector<Update> batch;
  batch.push_back({2, "a", append("+1")});
  batch.push_back({2, "b", append("b")});
  batch.push_back({2, "a", refuse});
  batch.push_back({2, "a", append("+2")});  // sees the batch's own earlier write of "a"
  batch.push_back({7, "a", append("other partition")});
  auto results = engine_->update_all(batch);
  ASSERT_EQ(results.size(), 5u);
  EXPECT_TRUE(results[0].status.is_ok());
  EXPECT_EQ(results[0].stored, "a0+1");
  EXPECT_EQ(results[1].stored, "b");
  EXPECT_EQ(results[2].status.code(), Code::conflict);
  EXPECT_EQ(results[3].stored, "a0+1+2");
  EXPECT_EQ(results[4].stored, "other partition");
  EXPECT_EQ(get(2, "a"), "a0+1+2");
  EXPECT_EQ(get(2, "b"), "b");
  EXPECT_EQ(get(7, "a"), "other partition");
  EXPECT_TRUE(engine_->update_all({}).empty());
}

TEST_P(EngineTest, remove_is_idempotent) {
  put(0, "k", "v");
  EXPECT_TRUE(engine_->remove(0, "k").is_ok());
  EXPECT_TRUE(engine_->remove(0, "k").is_ok());
  EXPECT_EQ(get(0, "k"), "<no such key>");
}

TEST_P(EngineTest, partitions_are_ordered_ranges_that_do_not_bleed) {
  for (Partition p : {0u, 1u, 255u, 256u, 65535u}) {
    for (const char* k : {"b", "a", "c", ""}) put(p, k, std::to_string(p));
  }
  for (Partition p : {0u, 1u, 255u, 256u, 65535u}) {
    EXPECT_EQ(scan(p), (std::vector<std::string>{"", "a", "b", "c"})) << p;
    EXPECT_EQ(get(p, "a"), std::to_string(p));
  }
  EXPECT_TRUE(scan(2).empty());
  EXPECT_EQ(scan(1, "a"), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(scan(1, "aa"), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(scan(1, std::nullopt, 2), (std::vector<std::string>{"", "a"}));
}

TEST_P(EngineTest, concurrent_updates_and_batches_lose_no_increment_and_never_deadlock) {
  constexpr int kThreads = 8, kIncrements = 200;
  auto increment = [](std::optional<std::string_view> current) -> Result<std::optional<std::string>> {
    int n = current ? std::stoi(std::string(*current)) : 0;
    return std::optional<std::string>(std::to_string(n + 1));
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string stored;
      for (int i = 0; i < kIncrements; ++i) {
        ASSERT_TRUE(engine_->update(7, "counter", increment, &stored).is_ok());
        // Batches that take the same two keys in opposite orders.
        std::vector<Update> batch{{7, t % 2 ? "x" : "y", increment}, {7, t % 2 ? "y" : "x", increment}};
        for (const auto& r : engine_->update_all(batch)) ASSERT_TRUE(r.status.is_ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  for (const char* key : {"counter", "x", "y"}) EXPECT_EQ(get(7, key), std::to_string(kThreads * kIncrements));
}

INSTANTIATE_TEST_SUITE_P(Engines, EngineTest, ::testing::Values("memory", "rocksdb"),
                         [](const auto& test) { return test.param; });

TEST(SyncPolicy, parses_and_rejects) {
  EXPECT_EQ(*parse_sync_policy("always"), SyncPolicy::always);
  EXPECT_EQ(*parse_sync_policy("interval"), SyncPolicy::interval);
  EXPECT_EQ(*parse_sync_policy("none"), SyncPolicy::none);
  EXPECT_FALSE(parse_sync_policy("sometimes").is_ok());
}

TEST(RocksDbEngine, a_reopened_engine_keeps_its_data) {
  auto dir = fs::temp_directory_path() / ("md-engine-reopen-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    auto engine = open_rocksdb_engine(dir.string(), Options{});
    ASSERT_TRUE(engine.is_ok());
    std::string stored;
    ASSERT_TRUE((*engine)->update(9, "k", set("kept"), &stored).is_ok());
  }
  auto engine = open_rocksdb_engine(dir.string(), Options{});
  ASSERT_TRUE(engine.is_ok());
  std::string value;
  ASSERT_TRUE((*engine)->get(9, "k", &value).is_ok());
  EXPECT_EQ(value, "kept");
  engine = Status::io_error("closed");
  fs::remove_all(dir);
}

// Readers race a writer through a row cache so small that entries come and go all the time: no
// reader may ever see a key's counter go back (a stale fill would put an older value back), and a
// removed key stays removed.
TEST(RocksDbEngine, readers_never_see_a_key_go_back_through_the_row_cache) {
  auto dir = fs::temp_directory_path() / ("md-engine-rowcache-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Options options;
  options.sync = SyncPolicy::none;
  options.row_cache_bytes = 1024;
  auto engine = open_rocksdb_engine(dir.string(), options);
  ASSERT_TRUE(engine.is_ok());
  constexpr int kKeys = 16, kRounds = 300;
  auto increment = [](std::optional<std::string_view> current) -> Result<std::optional<std::string>> {
    return std::optional<std::string>(std::to_string((current ? std::stoi(std::string(*current)) : 0) + 1));
  };
  std::atomic<bool> done = false;
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      std::vector<int> seen(kKeys, 0);
      while (!done) {
        for (int k = 0; k < kKeys; ++k) {
          std::string value;
          if (!(*engine)->get(1, std::to_string(k), &value).is_ok()) continue;
          int n = std::stoi(value);
          ASSERT_GE(n, seen[k]) << "key " << k;
          seen[k] = n;
        }
      }
    });
  }
  std::string stored;
  for (int round = 0; round < kRounds; ++round) {
    for (int k = 0; k < kKeys; ++k) ASSERT_TRUE((*engine)->update(1, std::to_string(k), increment, &stored).is_ok());
    // A removal is never undone by the cache either.
    ASSERT_TRUE((*engine)->update(1, "gone", increment, &stored).is_ok());
    ASSERT_TRUE((*engine)->remove(1, "gone").is_ok());
    ASSERT_EQ((*engine)->get(1, "gone", &stored).code(), Code::not_found);
  }
  done = true;
  for (auto& t : readers) t.join();
  engine = Status::io_error("closed");
  fs::remove_all(dir);
}

TEST(RocksDbEngine, an_unopenable_path_is_a_clear_error) {
  auto e = open_rocksdb_engine("/proc/definitely/not/here", Options{});
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().message().find("/proc/definitely/not/here"), std::string::npos);
}

}  // namespace
}  // namespace md::storage
