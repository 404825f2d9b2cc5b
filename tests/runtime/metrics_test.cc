// The Prometheus text format as GET /metrics writes it (promtool checks a live node's whole page in
// tests/cluster/test_monitoring.py): escapes, cumulative buckets, and histograms shared by threads.
#include "runtime/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace md::runtime {
namespace {

TEST(Metrics, families_have_help_and_type_and_label_values_are_escaped) {
  PrometheusText out;
  out.family("md_things_total", "counter", "Things\\counted\nhere");
  out.sample("md_things_total", {{"peer", "a\"b\\c\nd"}, {"zone", ""}}, 3);
  out.single("md_ratio", "gauge", "A ratio", 0.25);
  EXPECT_EQ(out.take(),
            "# HELP md_things_total Things\\\\counted\\nhere\n"
            "# TYPE md_things_total counter\n"
            "md_things_total{peer=\"a\\\"b\\\\c\\nd\",zone=\"\"} 3\n"
            "# HELP md_ratio A ratio\n"
            "# TYPE md_ratio gauge\n"
            "md_ratio 0.25\n");
}

TEST(Metrics, a_histogram_writes_cumulative_buckets_with_inf_sum_and_count) {
  Histogram h({0.1, 1});
  EXPECT_TRUE(h.empty());
  for (double v : {0.05, 0.1, 0.5, 7.0}) h.observe(v);  // a value on a bound falls in that bucket (le)
  EXPECT_FALSE(h.empty());
  PrometheusText out;
  h.write(out, "md_seconds", {{"op", "get"}});
  EXPECT_EQ(out.take(),
            "md_seconds_bucket{op=\"get\",le=\"0.1\"} 2\n"
            "md_seconds_bucket{op=\"get\",le=\"1\"} 3\n"
            "md_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "md_seconds_sum{op=\"get\"} 7.65\n"
            "md_seconds_count{op=\"get\"} 4\n");
}

TEST(Metrics, threads_record_into_one_histogram_without_losing_an_observation) {
  Histogram h(Histogram::latency_seconds());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < 10000; ++i) h.observe(0.001);
    });
  }
  for (auto& t : threads) t.join();
  PrometheusText out;
  h.write(out, "md_s", {});
  EXPECT_NE(out.take().find("md_s_count 40000\n"), std::string::npos);
}

}  // namespace
}  // namespace md::runtime
