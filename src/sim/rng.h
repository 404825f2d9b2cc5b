// The simulator's only source of randomness: xoshiro256** seeded by splitmix64.
//
// Its outputs are fully specified here (unlike std:: distributions, which differ between standard
// libraries), so a seed replays identically everywhere.
#pragma once

#include <cmath>
#include <cstdint>

namespace md::sim {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) {
      seed += 0x9E3779B97F4A7C15ull;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      s = z ^ (z >> 31);
    }
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n); n > 0. The tiny modulo bias is irrelevant for fault schedules.
  uint64_t below(uint64_t n) { return next() % n; }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }  // inclusive
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  // A long-tailed delay: mostly near `typical`, sometimes many times it (Pareto, shape 1.5).
  uint64_t long_tail(uint64_t typical, uint64_t cap) {
    double x = static_cast<double>(typical) / std::pow(1.0 - unit() * 0.999, 1.0 / 1.5);
    return x > static_cast<double>(cap) ? cap : static_cast<uint64_t>(x);
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace md::sim
