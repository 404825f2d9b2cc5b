// A phi-accrual failure detector (Hayashibara et al., 2004; as in Akka and Cassandra) for one peer.
//
// Instead of a yes/no timeout it keeps the recent intervals between a peer's heartbeats and
// reports phi: how unlikely, given those intervals, it is that the next heartbeat is still to
// come. phi = 1 means a 10% chance that the peer is fine and merely late, 2 means 1%, 8 means
// one in 10^8. A node suspects the peer while phi is at or above a threshold. Because the
// intervals are learnt, a peer behind a slow, jittery link gets more slack than one behind a
// fast, steady link, and nobody needs to tune a timeout per network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace md::core {

struct FailureDetectorOptions {
  uint64_t heartbeat_interval_ms = 500;  // how often each node sends every peer a heartbeat
  double phi_threshold = 8.0;            // suspect at or above (Akka's and Cassandra's default)
  uint32_t window = 100;                 // heartbeat intervals remembered per peer
  uint64_t min_std_dev_ms = 100;         // floor: on a very steady link a small delay is no alarm
  uint64_t acceptable_pause_ms = 1000;   // added to the expected interval: a pause this long is tolerated
};

class PhiAccrualDetector {
 public:
  explicit PhiAccrualDetector(const FailureDetectorOptions& options);

  // A heartbeat arrived at `now_ms`.
  void heartbeat(uint64_t now_ms);
  // Heartbeats are due from now on (the peer's connection is up): unless one already arrived,
  // silence counts from `now_ms`, so a peer that hangs before its first heartbeat is suspected too.
  void expect(uint64_t now_ms);
  // 0 until a heartbeat arrived or was expected; then grows with the time since the last one,
  // relative to the learnt intervals.
  double phi(uint64_t now_ms) const;
  // Forgets the last arrival (not the learnt intervals): for a peer whose connection was lost,
  // whose next heartbeat may legitimately be late by the time it takes to reconnect.
  void restart();

 private:
  FailureDetectorOptions options_;
  std::vector<uint64_t> intervals_;  // a ring buffer of the last `window` intervals
  size_t next_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
  bool seen_ = false;     // a last arrival is known (heard or expected)
  bool learn_ = false;    // the time since it is a heartbeat interval (it was heard, not expected)
  uint64_t last_ms_ = 0;
};

}  // namespace md::core
