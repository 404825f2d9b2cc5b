// Micro-benchmarks of the core's hot paths: key -> preference list, the coordinator's DVV update,
// replica merges, and the object codec. Run: build/bin/core_bench
#include <benchmark/benchmark.h>

#include "core/dvv_set.h"
#include "core/object_codec.h"
#include "core/ring.h"

namespace md::core {
namespace {

std::vector<std::string> members(size_t k) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < k; ++i) ids.push_back("127.0.0.1:" + std::to_string(5001 + i));
  return ids;
}

std::vector<std::string> keys(size_t count) {
  std::vector<std::string> out;
  for (size_t i = 0; i < count; ++i) out.push_back("user:" + std::to_string(i * 7919));
  return out;
}

void BM_preference_list(benchmark::State& state) {
  auto ring = *Ring::create(members(static_cast<size_t>(state.range(0))), 256);
  auto ks = keys(10000);
  size_t i = 0;
  for (auto _ : state) {
    auto list = ring.preference_list(ring.partition_of_key(ks[i++ % ks.size()]), 3);
    benchmark::DoNotOptimize(list.data());
  }
}
BENCHMARK(BM_preference_list)->Arg(3)->Arg(64);

// A read-modify-write with the context of the current object: the common, conflict-free update.
void BM_dvv_update_with_context(benchmark::State& state) {
  DvvSet object;
  object.update({}, "node_5001", false, std::string(100, 'v'));
  const std::string value(100, 'v');
  for (auto _ : state) {
    VersionVector ctx = object.context();
    object.update(ctx, "node_5001", false, value);
    benchmark::DoNotOptimize(object);
  }
}
BENCHMARK(BM_dvv_update_with_context);

void BM_dvv_merge(benchmark::State& state) {
  const auto siblings = static_cast<int>(state.range(0));
  DvvSet a, b;
  for (int i = 0; i < siblings; ++i) {
    a.update({}, "node_5001", false, std::string(100, 'a'));
    b.update({}, "node_5002", false, std::string(100, 'b'));
  }
  for (auto _ : state) {
    DvvSet merged = a;
    merged.merge(b);
    benchmark::DoNotOptimize(merged);
  }
}
BENCHMARK(BM_dvv_merge)->Arg(1)->Arg(10);

void BM_object_decode_merge_encode(benchmark::State& state) {
  DvvSet a;
  a.update({}, "node_5001", false, std::string(100, 'a'));
  DvvSet b = a;
  b.update(b.context(), "node_5002", false, std::string(100, 'b'));
  std::string stored = encode_object(a), incoming = encode_object(b);
  for (auto _ : state) {
    DvvSet merged = *decode_object(stored);
    merged.merge(*decode_object(incoming));
    benchmark::DoNotOptimize(encode_object(merged));
  }
}
BENCHMARK(BM_object_decode_merge_encode);

// What every stored update costs the tombstone reaper: is the object deleted (it is not, here)?
void BM_deleted_object_check(benchmark::State& state) {
  DvvSet a;
  a.update({}, "node_5001", false, std::string(100, 'a'));
  a.update({}, "node_5002", false, std::string(100, 'b'));
  std::string stored = encode_object(a);
  for (auto _ : state) benchmark::DoNotOptimize(deleted_object_counter(stored));
}
BENCHMARK(BM_deleted_object_check);

}  // namespace
}  // namespace md::core

BENCHMARK_MAIN();
