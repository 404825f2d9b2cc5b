// What GET /metrics costs a request: a latency observation (runtime/metrics.h), alone and with
// four threads recording into one histogram, and the text of a histogram family as a scrape
// writes it. bench/RESULTS.md, "Metrics", has the figures beside the cluster A/B run.
#include <benchmark/benchmark.h>

#include "runtime/metrics.h"

namespace md::runtime {
namespace {

Histogram& shared_histogram() {
  static Histogram h(Histogram::latency_seconds());
  return h;
}

void BM_Observe(benchmark::State& state) {
  Histogram& h = shared_histogram();
  double v = 0.0001;
  for (auto _ : state) {
    h.observe(v);
    v = v < 1 ? v * 1.7 : 0.0001;  // walks the buckets
  }
}
BENCHMARK(BM_Observe)->Threads(1)->Threads(4);

void BM_WriteHistogram(benchmark::State& state) {
  Histogram h(Histogram::latency_seconds());
  for (int i = 0; i < 1000; ++i) h.observe(0.001 * i);
  for (auto _ : state) {
    PrometheusText out;
    h.write(out, "minidynamo_request_duration_seconds", {{"protocol", "http"}, {"op", "get"}, {"outcome", "ok"}});
    benchmark::DoNotOptimize(out.take());
  }
}
BENCHMARK(BM_WriteHistogram);

}  // namespace
}  // namespace md::runtime

BENCHMARK_MAIN();
