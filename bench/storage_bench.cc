// Micro-benchmarks of the storage engines: update (read-modify-write) and get of 100-byte values,
// in memory and in RocksDB with each sync policy. Run: build/bin/storage_bench
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "storage/engine.h"

namespace md::storage {
namespace {

namespace fs = std::filesystem;

const std::string kValue(100, 'v');

UpdateFn set_value() {
  return [](std::optional<std::string_view>) -> Result<std::optional<std::string>> { return std::optional(kValue); };
}

// One engine per benchmark: arg 0 memory, 1 rocksdb sync=none, 2 rocksdb sync=always.
std::unique_ptr<Engine> open_engine(int64_t kind, const std::string& name) {
  if (kind == 0) return make_memory_engine();
  fs::path dir = fs::temp_directory_path() / ("md-storage-bench-" + name + "-" + std::to_string(kind));
  fs::remove_all(dir);
  Options options;
  options.sync = kind == 2 ? SyncPolicy::always : SyncPolicy::none;
  auto engine = open_rocksdb_engine(dir.string(), options);
  if (!engine.is_ok()) {
    std::fprintf(stderr, "%s\n", engine.status().message().c_str());
    std::exit(1);
  }
  return std::move(engine).value();
}

const char* label(int64_t kind) { return kind == 0 ? "memory" : kind == 1 ? "rocksdb/sync=none" : "rocksdb/sync=always"; }

void BM_update(benchmark::State& state) {
  static std::unique_ptr<Engine> engine;  // shared by the threads of one run
  if (state.thread_index() == 0) {
    engine.reset();  // the previous run's engine, closed before its directory is reused
    engine = open_engine(state.range(0), "update");
  }
  std::string stored;
  uint64_t i = static_cast<uint64_t>(state.thread_index()) << 32;
  for (auto _ : state) {
    auto s = engine->update(static_cast<Partition>(i % 256), "key" + std::to_string(i % 100000), set_value(), &stored);
    if (!s.is_ok()) state.SkipWithError(s.message().c_str());
    ++i;
  }
  state.SetLabel(label(state.range(0)));
  if (state.thread_index() == 0) state.SetItemsProcessed(state.iterations() * state.threads());
}
BENCHMARK(BM_update)->Arg(0)->Arg(1)->Arg(2)->Threads(1)->Threads(16)->UseRealTime();

void BM_get(benchmark::State& state) {
  auto engine = open_engine(state.range(0), "get");
  std::string stored;
  for (uint64_t k = 0; k < 10000; ++k) (void)engine->update(static_cast<Partition>(k % 256), "key" + std::to_string(k), set_value(), &stored);
  std::string value;
  uint64_t i = 0;
  for (auto _ : state) {
    uint64_t k = (i++ * 7919) % 10000;
    benchmark::DoNotOptimize(engine->get(static_cast<Partition>(k % 256), "key" + std::to_string(k), &value));
  }
  state.SetLabel(label(state.range(0)));
}
BENCHMARK(BM_get)->Arg(0)->Arg(1);

}  // namespace
}  // namespace md::storage

BENCHMARK_MAIN();
