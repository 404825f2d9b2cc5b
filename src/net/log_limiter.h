// Lets a kind of log message through at most once per interval and counts the ones held back, so
// what a stranger can make happen in a loop (a refused TLS handshake, a refused join) cannot flood
// the log, while the first of each burst is still logged at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace md::net {

class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(Clock::duration interval) : interval_(interval) {}

  // Nothing when this one is held back; else what to end its message with: nothing, or how many
  // were held back since the last one (" (3 more since the last such message)").
  std::optional<std::string> allow(Clock::time_point now = Clock::now()) {
    if (now < quiet_until_) {
      ++held_back_;
      return std::nullopt;
    }
    std::string more = held_back_ ? " (" + std::to_string(held_back_) + " more since the last such message)" : "";
    held_back_ = 0;
    quiet_until_ = now + interval_;
    return more;
  }

 private:
  Clock::duration interval_;
  Clock::time_point quiet_until_;
  uint64_t held_back_ = 0;
};

}  // namespace md::net
