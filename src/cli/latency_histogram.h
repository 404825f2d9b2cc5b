// A log-linear latency histogram (HdrHistogram's idea, 64 sub-buckets per power of two: values
// are kept to within about 1.6%), cheap enough to record every request of a benchmark.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

namespace md::cli {

class LatencyHistogram {
 public:
  void record(uint64_t micros) {
    ++counts_[index(micros)];
    ++total_;
    if (micros > max_) max_ = micros;
  }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  // The smallest recorded value v such that at least q of the values are <= v (q in [0, 1]).
  uint64_t quantile(double q) const {
    if (total_ == 0) return 0;
    auto rank = static_cast<uint64_t>(q * static_cast<double>(total_ - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return upper(i) < max_ ? upper(i) : max_;
    }
    return max_;
  }

 private:
  static constexpr int kSub = 64;
  static size_t index(uint64_t v) {
    if (v < kSub) return v;
    int shift = std::bit_width(v) - 7;  // keep the top 7 bits: 64 sub-buckets per octave
    return static_cast<size_t>((shift + 1) * kSub + static_cast<int>((v >> shift) - kSub));
  }
  static uint64_t upper(size_t i) {
    if (i < kSub) return i;
    int shift = static_cast<int>(i / kSub) - 1;
    uint64_t sub = i % kSub + kSub;
    return ((sub + 1) << shift) - 1;
  }
  std::array<uint64_t, 64 * 60> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace md::cli
