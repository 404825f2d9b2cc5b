// The open connections of a client-facing server (HTTP, RESP), and the two things every such server
// does with them the same way: accepting them, up to a maximum, and closing those past a timeout.
//
// The acceptor runs on the server's io_context; the connections are spread over the contexts the
// set is given (a node's I/O threads with --threads 2 or more, runtime/io_threads.h; else the
// server's own): each accepted socket goes to the next context in turn, through its mailbox
// (net/mailbox.h), and becomes a connection there, where it lives for good. It never moves, so
// nothing about one connection is ever touched by two threads, nor any context by another. One
// timer per context checks that context's connections (a sweep every quarter of the shortest
// timeout, 10 ms to 1 s) instead of a timer per read or write, which a busy connection would re-arm
// on every request.
//
// A Connection has start() (begins serving), check(now) (closes it if it is past one of its
// timeouts) and close() (which must call erase() with itself); all three run on its context's
// thread. The Counters' connections_accepted and connections_open are atomics: every thread counts.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <memory>
#include <unordered_set>
#include <vector>

#include "net/mailbox.h"

namespace md::net {

template <class Connection>
class ConnectionSet {
 public:
  using Clock = std::chrono::steady_clock;

  // `contexts` is not empty.
  explicit ConnectionSet(const std::vector<boost::asio::io_context*>& contexts) {
    assert(!contexts.empty());
    for (auto* io : contexts) shards_.push_back(std::make_unique<Shard>(*io));
  }

  // Accepts on `acceptor` (a socket of the acceptor's context) until it closes, unless
  // `connections_max` are open: then each new socket is closed at once. For each socket,
  // `make()` runs on the acceptor's thread (to read what only that thread may, a TLS context say)
  // and returns a builder, which the connection's own thread calls with the socket, now of its
  // context, and that context's mailbox, to make the connection that it keeps and starts.
  // `counters` (connections_accepted, connections_open) count them; `owner` (the server's state,
  // which holds this set and the counters) is kept alive meanwhile.
  template <class Counters, class Make>
  void accept(boost::asio::ip::tcp::acceptor& acceptor, const char* protocol, size_t connections_max,
              Counters& counters, std::shared_ptr<void> owner, Make make) {
    acceptor.async_accept([this, &acceptor, protocol, connections_max, &counters, owner = std::move(owner),
                           make = std::move(make)](boost::system::error_code ec,
                                                   boost::asio::ip::tcp::socket socket) mutable {
      if (!acceptor.is_open()) return;
      if (ec) {
        spdlog::warn("{} accept failed: {}", protocol, ec.message());
      } else if (counters.connections_open < connections_max) {
        ++counters.connections_accepted;
        ++counters.connections_open;
        Shard& shard = *shards_[next_shard_];
        next_shard_ = (next_shard_ + 1) % shards_.size();
        auto build = make();
        if (&shard.io == &boost::asio::query(acceptor.get_executor(), boost::asio::execution::context)) {
          keep(shard, build(std::move(socket), shard.mailbox));
        } else {
          // The socket moves to its context as a bare descriptor, registered with that context's
          // reactor there, by its own thread.
          const auto family = socket.local_endpoint(ec).protocol();
          const int fd = socket.release(ec);
          shard.mailbox.post([&shard, &counters, family, fd, build = std::move(build), owner] {
            boost::asio::ip::tcp::socket mine(shard.io);
            boost::system::error_code assigned;
            mine.assign(family, fd, assigned);
            if (assigned) {
              ::close(fd);
              --counters.connections_open;
              return spdlog::warn("a connection's socket could not move to its thread: {}", assigned.message());
            }
            keep(shard, build(std::move(mine), shard.mailbox));
          });
        }
      }  // else the socket closes as it goes out of scope
      accept(acceptor, protocol, connections_max, counters, std::move(owner), std::move(make));
    });
  }

  // Checks every connection's timeouts from now on, often enough for the shortest one.
  void sweep(uint32_t shortest_timeout_ms, const std::shared_ptr<void>& owner) {
    const uint32_t every_ms = std::clamp<uint32_t>(shortest_timeout_ms / 4, 10, 1000);
    for (auto& shard : shards_) {
      shard->mailbox.dispatch([this, s = shard.get(), every_ms, owner] { sweep(*s, every_ms, owner); });
    }
  }

  // On the thread of `connection`'s context.
  void erase(const std::shared_ptr<Connection>& connection) {
    for (auto& shard : shards_) {
      if (shard->io.get_executor().running_in_this_thread()) shard->connections.erase(connection);
    }
  }

  // Stops the sweeps and closes every connection (the server is going away). Only once no thread
  // runs the contexts but the caller's.
  void close_all() {
    for (auto& shard : shards_) {
      shard->sweep.cancel();
      // A copy to walk: closing a connection erases it from the set.
      const std::vector<std::shared_ptr<Connection>> open(shard->connections.begin(), shard->connections.end());
      for (const auto& c : open) c->close();
      shard->connections.clear();  // erase() finds no running shard from a thread that runs none
    }
  }

 private:
  // One context's connections, touched only on its thread.
  struct Shard {
    explicit Shard(boost::asio::io_context& context) : io(context), mailbox(Mailbox::of(context)), sweep(context) {}
    boost::asio::io_context& io;
    Mailbox& mailbox;
    boost::asio::steady_timer sweep;
    std::unordered_set<std::shared_ptr<Connection>> connections;
  };

  // On the shard's thread.
  static void keep(Shard& shard, std::shared_ptr<Connection> connection) {
    shard.connections.insert(connection);
    connection->start();
  }

  void sweep(Shard& shard, uint32_t every_ms, std::shared_ptr<void> owner) {
    shard.sweep.expires_after(std::chrono::milliseconds(every_ms));
    shard.sweep.async_wait([this, &shard, every_ms, owner = std::move(owner)](boost::system::error_code ec) mutable {
      if (ec) return;
      const auto now = Clock::now();
      const std::vector<std::shared_ptr<Connection>> open(shard.connections.begin(), shard.connections.end());
      for (const auto& c : open) c->check(now);
      sweep(shard, every_ms, std::move(owner));
    });
  }

  std::vector<std::unique_ptr<Shard>> shards_;
  size_t next_shard_ = 0;  // where the next accepted connection goes
};

}  // namespace md::net
