// The open connections of a client-facing server (HTTP, RESP), and the two things every such server
// does with them the same way: accepting them, up to a maximum, and closing those past a timeout.
// One timer per server checks every connection (a sweep every quarter of the shortest timeout,
// 10 ms to 1 s) instead of a timer per read or write, which a busy connection would re-arm on every
// request.
//
// A Connection has start() (begins serving), check(now) (closes it if it is past one of its
// timeouts) and close() (which must call erase() with itself). Everything runs on the io_context's
// thread.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <unordered_set>
#include <vector>

namespace md::net {

template <class Connection>
class ConnectionSet {
 public:
  using Clock = std::chrono::steady_clock;

  explicit ConnectionSet(boost::asio::io_context& io) : sweep_(io) {}

  // Accepts on `acceptor` until it closes. Each socket becomes a connection by `make(socket)`, is
  // kept here and started, unless `connections_max` are open: then it is closed at once. `counters`
  // (connections_accepted, connections_open) count them; `owner` (the server's state, which holds
  // this set and the counters) is kept alive meanwhile.
  template <class Counters, class Make>
  void accept(boost::asio::ip::tcp::acceptor& acceptor, const char* protocol, size_t connections_max,
              Counters& counters, std::shared_ptr<void> owner, Make make) {
    acceptor.async_accept([this, &acceptor, protocol, connections_max, &counters, owner = std::move(owner),
                           make = std::move(make)](boost::system::error_code ec, boost::asio::ip::tcp::socket socket) mutable {
      if (!acceptor.is_open()) return;
      if (ec) {
        spdlog::warn("{} accept failed: {}", protocol, ec.message());
      } else if (counters.connections_open < connections_max) {
        ++counters.connections_accepted;
        ++counters.connections_open;
        std::shared_ptr<Connection> connection = make(std::move(socket));
        connections_.insert(connection);
        connection->start();
      }  // else the socket closes as it goes out of scope
      accept(acceptor, protocol, connections_max, counters, std::move(owner), std::move(make));
    });
  }

  // Checks every connection's timeouts from now on, often enough for the shortest one.
  void sweep(uint32_t shortest_timeout_ms, std::shared_ptr<void> owner) {
    sweep_.expires_after(std::chrono::milliseconds(std::clamp<uint32_t>(shortest_timeout_ms / 4, 10, 1000)));
    sweep_.async_wait([this, shortest_timeout_ms, owner = std::move(owner)](boost::system::error_code ec) mutable {
      if (ec) return;
      const auto now = Clock::now();
      for (const auto& c : snapshot()) c->check(now);
      sweep(shortest_timeout_ms, std::move(owner));
    });
  }

  void erase(const std::shared_ptr<Connection>& connection) { connections_.erase(connection); }

  // Stops the sweep and closes every connection (the server is going away).
  void close_all() {
    sweep_.cancel();
    for (const auto& c : snapshot()) c->close();
  }

 private:
  // A copy to walk: closing a connection erases it from the set.
  std::vector<std::shared_ptr<Connection>> snapshot() const { return {connections_.begin(), connections_.end()}; }

  boost::asio::steady_timer sweep_;
  std::unordered_set<std::shared_ptr<Connection>> connections_;
};

}  // namespace md::net
