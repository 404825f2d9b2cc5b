// Metrics in the Prometheus text exposition format (version 0.0.4), for GET /metrics.
//
// No client library is packaged for Debian, and the format is small: PrometheusText writes
// families (# HELP and # TYPE, then samples) with label values and help text escaped as the format
// says, and Histogram keeps cumulative-on-write bucket counts. Recording is cheap enough for the
// request path: a histogram observation is one relaxed atomic add per bucket hit and two for the
// sum and count, with no lock, so threads other than the io thread (the durable writer's fsyncs)
// record into the same histograms safely.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace md::runtime {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class PrometheusText {
 public:
  // Starts a family: `type` is counter, gauge or histogram. Names follow Prometheus's rules
  // (base units, _total for counters); the caller writes each family once.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, Labels labels, double value);
  // A family of one sample without labels.
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  std::string take() { return std::move(text_); }

 private:
  void labels(Labels labels, std::string_view le = {});
  friend class Histogram;
  std::string text_;
};

class Histogram {
 public:
  // `bounds` ascending: the buckets' upper bounds; +Inf is added.
  explicit Histogram(std::vector<double> bounds);
  Histogram(const Histogram& other);  // a copy of the counts so far (histograms live in containers)

  void observe(double value);
  // Writes name_bucket (cumulative, with le), name_sum and name_count, under `labels`; the
  // family line is the caller's.
  void write(PrometheusText& out, std::string_view name, Labels labels) const;
  bool empty() const;  // nothing observed yet

  // Bounds for latencies in seconds: 100 µs to 10 s, about three per decade.
  static std::vector<double> latency_seconds();

 private:
  std::vector<double> bounds_;
  std::vector<std::atomic<uint64_t>> buckets_;  // per bound, then +Inf; not cumulative
  std::atomic<double> sum_{0};
};

}  // namespace md::runtime
