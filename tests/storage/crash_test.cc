// Cuts the power under a RocksDB engine at a random acknowledgement: every write it acknowledged
// with sync=always must be there when the database is opened again, and it must open cleanly.
//
// The engine writes through FaultInjectionFs, which on the cut loses what a machine loses: bytes
// not fsynced and files whose directory was not fsynced. (Killing the writer process would not
// do: the OS page cache keeps every byte written, so an engine that never fsyncs would pass.) A
// second test runs an engine that does not sync and expects the check to catch it.
//
// Seeded: a failure prints its seed; replay it with
//   build/bin/storage_crash_test --seed=N   (or MD_CRASH_SEED=N build/bin/storage_crash_test)
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "fault_injection_fs.h"
#include "storage/engine.h"

namespace md::storage {
namespace {

namespace fs = std::filesystem;

uint64_t g_seed = 0;  // set by main

constexpr Partition kPartitions = 256;

std::string key_of(uint32_t i) { return "key" + std::to_string(i); }
std::string value_of(uint32_t i, size_t padding) { return "value-" + std::to_string(i) + std::string(padding, 'x'); }

// One run: `writers` threads make writes 0, 1, 2, ... (`write(engine, i)`) until the power goes off
// at the `cut_after`th change to the disk after the engine opened (in the middle of a WAL write, a
// sync, a flush...); then the engine is dropped (its disk refuses everything by now) and the
// unsynced data is lost.
struct PowerCut {
  std::vector<uint32_t> acknowledged;
  FaultInjectionFs::Loss loss;
  std::string error_before_cut;  // a write that failed while the power was on
};
using Write = std::function<Status(Engine& engine, uint32_t i)>;

PowerCut write_until_power_cut(const std::string& path, Options options, uint64_t cut_after, int writers,
                               const Write& write) {
  auto disk = std::make_shared<FaultInjectionFs>();
  options.file_system = disk;
  PowerCut cut;
  auto engine = open_rocksdb_engine(path, options);
  if (!engine.is_ok()) {
    cut.error_before_cut = engine.status().message();
    return cut;
  }
  disk->cut_power_after(cut_after);
  std::atomic<uint32_t> next{0};
  std::mutex mutex;
  std::vector<std::thread> threads;
  for (int t = 0; t < writers; ++t) {
    threads.emplace_back([&] {
      while (true) {
        uint32_t i = next++;
        auto s = write(**engine, i);
        std::lock_guard lock(mutex);
        if (!s.is_ok()) {
          if (s.message().find("the power") == std::string::npos && cut.error_before_cut.empty()) {
            cut.error_before_cut = s.message();
          }
          return;
        }
        cut.acknowledged.push_back(i);
      }
    });
  }
  for (auto& t : threads) t.join();
  *engine = nullptr;  // closing fails on the dead disk: nothing more reaches it
  cut.loss = disk->lose_unsynced();
  return cut;
}

// Write i: key i, in partition i % kPartitions, with value_of(i, padding).
Write numbered_write(size_t padding) {
  return [padding](Engine& engine, uint32_t i) {
    std::string stored;
    auto set = [&](std::optional<std::string_view>) -> Result<std::optional<std::string>> {
      return std::optional<std::string>(value_of(i, padding));
    };
    return engine.update(i % kPartitions, key_of(i), set, &stored);
  };
}

// The acknowledged writes missing (or wrong) after the restart.
std::vector<uint32_t> lost_writes(Engine& engine, const std::vector<uint32_t>& acknowledged, size_t padding) {
  std::vector<uint32_t> lost;
  for (uint32_t i : acknowledged) {
    std::string v;
    if (!engine.get(i % kPartitions, key_of(i), &v).is_ok() || v != value_of(i, padding)) lost.push_back(i);
  }
  return lost;
}

// Every key the restarted engine holds has the bytes that were written for it: nothing torn.
void expect_only_whole_writes(Engine& engine, size_t padding) {
  for (Partition p = 0; p < kPartitions; ++p) {
    auto s = engine.for_each(p, std::nullopt, [&](std::string_view key, std::string_view value) {
      uint32_t i = 0;
      auto digits = key.substr(3);
      bool parsed = key.starts_with("key") &&
                    std::from_chars(digits.data(), digits.data() + digits.size(), i).ec == std::errc();
      EXPECT_TRUE(parsed) << "a key nobody wrote: " << key;
      EXPECT_EQ(value, value_of(i, padding)) << "key " << key;
      return true;
    });
    ASSERT_TRUE(s.is_ok()) << s.message();
  }
}

fs::path fresh_dir(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("md-crash-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(dir);
  return dir;
}

// Said at the start of each test and again with every failure.
std::string replay() {
  auto line = "seed " + std::to_string(g_seed) + " (replay: build/bin/storage_crash_test --seed=" + std::to_string(g_seed) + ")";
  std::printf("%s\n", line.c_str());
  return line;
}

TEST(StorageCrash, every_acknowledged_write_survives_a_power_cut_with_sync_always) {
  SCOPED_TRACE(replay());
  std::mt19937_64 rng(g_seed);
  FaultInjectionFs::Loss lost_in_cuts;
  for (int round = 0; round < 4; ++round) {
    uint64_t cut_after = rng() % 2000 + 50;
    size_t padding = rng() % 2000;
    SCOPED_TRACE("round " + std::to_string(round) + ": the power goes off at change " + std::to_string(cut_after) +
                 ", values of " + std::to_string(padding) + " bytes and more");
    auto dir = fresh_dir("always-" + std::to_string(round));
    Options options;
    options.write_buffer_bytes = 64 << 10;  // small memtables: flushes and new WALs happen during the run
    auto cut = write_until_power_cut(dir.string(), options, cut_after, 4, numbered_write(padding));
    ASSERT_EQ(cut.error_before_cut, "");
    ASSERT_FALSE(cut.acknowledged.empty());
    lost_in_cuts.bytes += cut.loss.bytes;
    lost_in_cuts.files_removed += cut.loss.files_removed;

    auto engine = open_rocksdb_engine(dir.string(), Options{});
    ASSERT_TRUE(engine.is_ok()) << engine.status().message();
    auto lost = lost_writes(**engine, cut.acknowledged, padding);
    EXPECT_TRUE(lost.empty()) << lost.size() << " of " << cut.acknowledged.size()
                              << " acknowledged writes lost, the first: " << lost.front();
    expect_only_whole_writes(**engine, padding);
    *engine = nullptr;
    fs::remove_all(dir);
  }
  std::printf("the power cuts lost %llu unsynced bytes and %llu files\n",
              static_cast<unsigned long long>(lost_in_cuts.bytes),
              static_cast<unsigned long long>(lost_in_cuts.files_removed));
}

// The mutation: an engine that acknowledges without fsyncing (sync=none stands in for one that
// claims sync=always and skips the fsync) must lose acknowledged writes in the power cut, and the
// check above must see it. This proves the test can fail for the thing it names. (Memtables large
// enough that nothing is flushed: every acknowledged write is in the WAL, which is never synced.)
TEST(StorageCrash, an_engine_that_skips_the_fsync_is_caught) {
  SCOPED_TRACE(replay());
  std::mt19937_64 rng(g_seed);
  uint64_t cut_after = rng() % 2000 + 50;
  size_t padding = rng() % 2000;
  auto dir = fresh_dir("none");
  Options options;
  options.sync = SyncPolicy::none;
  auto cut = write_until_power_cut(dir.string(), options, cut_after, 4, numbered_write(padding));
  ASSERT_EQ(cut.error_before_cut, "");
  ASSERT_FALSE(cut.acknowledged.empty());
  EXPECT_GT(cut.loss.bytes + cut.loss.files_removed, 0u);

  auto engine = open_rocksdb_engine(dir.string(), Options{});
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  EXPECT_FALSE(lost_writes(**engine, cut.acknowledged, padding).empty());
  expect_only_whole_writes(**engine, padding);
  *engine = nullptr;
  fs::remove_all(dir);
}

// With --sync none a power cut may lose the last writes, but what survives is what the writes up
// to some point left, never a newer value of one key beside an older value of another (RocksDB's
// point-in-time recovery: a memtable that reached a table file makes the log before it obsolete,
// and the log after it is replayed up to its first lost record). One writer writes value i to a
// random key of kKeys, small memtables flushing meanwhile; after the cut, with L the newest value
// found, every key must hold the last value written to it up to L. (It caught a write-ahead log of
// our own that let a memtable reach a table file before the log records behind it were synced:
// bench/RESULTS.md, "A commit log of our own". More keys than a memtable holds, so that a replay
// that puts old values back leaves other keys newer.)
TEST(StorageCrash, with_sync_none_a_power_cut_keeps_the_writes_up_to_some_point) {
  SCOPED_TRACE(replay());
  std::mt19937_64 rng(g_seed);
  constexpr uint32_t kKeys = 1000;
  for (int round = 0; round < 4; ++round) {
    const uint64_t cut_after = rng() % 3000 + 100;
    SCOPED_TRACE("round " + std::to_string(round) + ": the power goes off at change " + std::to_string(cut_after));
    auto dir = fresh_dir("prefix-" + std::to_string(round));
    Options options;
    options.sync = SyncPolicy::none;
    options.write_buffer_bytes = 64 << 10;
    std::vector<uint32_t> key_of_write;  // one writer: write i is the ith
    auto cut = write_until_power_cut(dir.string(), options, cut_after, 1, [&](Engine& engine, uint32_t i) {
      key_of_write.push_back(static_cast<uint32_t>(rng() % kKeys));
      std::string stored;
      auto set = [&](std::optional<std::string_view>) -> Result<std::optional<std::string>> {
        return std::optional<std::string>(std::to_string(i) + std::string(200, 'v'));
      };
      return engine.update(0, key_of(key_of_write.back()), set, &stored);
    });
    ASSERT_EQ(cut.error_before_cut, "");

    auto engine = open_rocksdb_engine(dir.string(), Options{});
    ASSERT_TRUE(engine.is_ok()) << engine.status().message();
    std::vector<std::optional<uint32_t>> found(kKeys);
    int64_t newest = -1;  // none survived
    for (uint32_t k = 0; k < kKeys; ++k) {
      std::string v;
      if (!(*engine)->get(0, key_of(k), &v).is_ok()) continue;
      found[k] = static_cast<uint32_t>(std::stoul(v));
      newest = std::max<int64_t>(newest, *found[k]);
    }
    std::vector<std::optional<uint32_t>> expected(kKeys);  // each key's last value up to `newest`
    for (uint32_t i = 0; i <= newest && i < key_of_write.size(); ++i) expected[key_of_write[i]] = i;
    for (uint32_t k = 0; k < kKeys; ++k) {
      EXPECT_EQ(found[k], expected[k]) << "key " << k << " after the cut, whose newest surviving value is " << newest;
    }
    *engine = nullptr;
    fs::remove_all(dir);
  }
}

// The seed: --seed=N or --seed N on the command line, else MD_CRASH_SEED, else a random one.
uint64_t seed_from(int argc, char** argv) {
  const char* text = std::getenv("MD_CRASH_SEED");
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.starts_with("--seed=")) text = argv[i] + 7;
    if (arg == "--seed" && i + 1 < argc) text = argv[i + 1];
  }
  if (text == nullptr) return std::random_device{}();
  uint64_t seed = 0;
  std::string_view digits = text;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seed);
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    std::fprintf(stderr, "the seed must be a number from 0 to 2^64-1, got '%s'\n", text);
    std::exit(2);
  }
  return seed;
}

}  // namespace
}  // namespace md::storage

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  md::storage::g_seed = md::storage::seed_from(argc, argv);
  return RUN_ALL_TESTS();
}
