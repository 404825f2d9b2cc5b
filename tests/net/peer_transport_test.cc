// The peer transport on real loopback sockets (ports 23000-23999, distinct per test).
#include "net/peer_transport.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>

#include "net/frame.h"

namespace md::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Recorder : PeerTransport::Handler {
  std::vector<std::pair<NodeIndex, std::string>> messages;
  int ups = 0, downs = 0;
  void on_peer_message(NodeIndex from, std::string payload) override { messages.emplace_back(from, std::move(payload)); }
  void on_peer_up(NodeIndex) override { ++ups; }
  void on_peer_down(NodeIndex) override { ++downs; }
};

std::vector<tcp::endpoint> endpoints(uint16_t base, int n) {
  std::vector<tcp::endpoint> out;
  for (int i = 0; i < n; ++i) out.emplace_back(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(base + i));
  return out;
}

// Runs the io_context until `done` holds; fails the test after `limit`.
template <typename Pred>
void run_until(asio::io_context& io, Pred done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out";
    io.run_for(std::chrono::milliseconds(5));
  }
}

std::string raw_hello(NodeIndex from, uint64_t fingerprint) {
  std::string h = "MDPEER";
  h.push_back(1);
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((from >> (8 * i)) & 0xff));
  for (int i = 0; i < 8; ++i) h.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xff));
  return encode_frame(h);
}

TEST(PeerTransport, many_messages_in_flight_arrive_in_order) {
  asio::io_context io;
  auto eps = endpoints(23000, 2);
  Recorder ra, rb;
  PeerTransport a(io, 0, 42, eps, ra, {}), b(io, 1, 42, eps, rb, {});
  ASSERT_TRUE(a.listen(eps[0]).is_ok());
  ASSERT_TRUE(b.listen(eps[1]).is_ok());
  run_until(io, [&] { return a.is_up(1) && b.is_up(0); });
  for (int i = 0; i < 10000; ++i) ASSERT_TRUE(a.send(1, "m" + std::to_string(i)));
  run_until(io, [&] { return rb.messages.size() == 10000; });
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(rb.messages[static_cast<size_t>(i)], std::make_pair(NodeIndex{0}, "m" + std::to_string(i)));
  EXPECT_EQ(a.counters().frames_sent, 10000u + 1);  // and the hello
}

TEST(PeerTransport, garbage_a_wrong_cluster_and_a_silent_connection_are_closed_and_counted) {
  asio::io_context io;
  auto eps = endpoints(23010, 2);
  Recorder ra;
  PeerTransportOptions options;
  options.handshake_timeout_ms = 200;
  PeerTransport a(io, 0, 42, eps, ra, options);
  ASSERT_TRUE(a.listen(eps[0]).is_ok());
  auto connect = [&] {
    tcp::socket s(io);
    s.connect(eps[0]);
    return s;
  };
  auto garbage = connect();
  asio::write(garbage, asio::buffer(std::string("GET / HTTP/1.1\r\n\r\n")));
  auto wrong_cluster = connect();
  asio::write(wrong_cluster, asio::buffer(raw_hello(1, 999)));
  auto oversized = connect();
  asio::write(oversized, asio::buffer(raw_hello(1, 42) + std::string("\xff\xff\xff\x7f\0\0\0\0", 8)));
  auto silent = connect();
  run_until(io, [&] {
    auto c = a.counters();
    return c.closed_bad_handshake >= 3 && c.closed_oversized >= 1;
  });
  EXPECT_TRUE(ra.messages.empty());
  // A proper peer is still served.
  Recorder rb;
  PeerTransport b(io, 1, 42, eps, rb, {});
  ASSERT_TRUE(b.listen(eps[1]).is_ok());
  run_until(io, [&] { return b.is_up(0); });
  ASSERT_TRUE(b.send(0, "still here"));
  run_until(io, [&] { return !ra.messages.empty(); });
  EXPECT_EQ(ra.messages[0].second, "still here");
}

TEST(PeerTransport, a_peer_that_never_reads_is_closed_as_hung_and_others_are_served) {
  asio::io_context io;
  auto eps = endpoints(23020, 3);
  tcp::acceptor hung(io, eps[1]);  // accepts, never reads
  tcp::socket hung_side(io);
  hung.async_accept(hung_side, [](boost::system::error_code) {});
  Recorder ra, rc;
  PeerTransportOptions options;
  options.stall_timeout_ms = 300;
  options.send_queue_bytes_max = 256 << 20;
  PeerTransport a(io, 0, 42, eps, ra, options), c(io, 2, 42, eps, rc, {});
  ASSERT_TRUE(a.listen(eps[0]).is_ok());
  ASSERT_TRUE(c.listen(eps[2]).is_ok());
  run_until(io, [&] { return a.is_up(1) && a.is_up(2); });
  std::string big(1 << 20, 'x');
  for (int i = 0; i < 64; ++i) a.send(1, big);  // far more than the socket buffers hold
  run_until(io, [&] { return a.counters().closed_hung >= 1; });
  EXPECT_GE(ra.downs, 1);
  EXPECT_FALSE(a.is_up(1));
  ASSERT_TRUE(a.send(2, "fine"));
  run_until(io, [&] { return !rc.messages.empty(); });
}

TEST(PeerTransport, a_restarted_peer_is_reported_down_then_reconnected) {
  asio::io_context io;
  auto eps = endpoints(23030, 2);
  Recorder ra, rb;
  PeerTransport a(io, 0, 42, eps, ra, {});
  ASSERT_TRUE(a.listen(eps[0]).is_ok());
  auto b = std::make_unique<PeerTransport>(io, 1, 42, eps, rb, PeerTransportOptions{});
  ASSERT_TRUE(b->listen(eps[1]).is_ok());
  run_until(io, [&] { return a.is_up(1); });
  b->stop();
  b.reset();
  run_until(io, [&] { return ra.downs >= 1; });
  EXPECT_FALSE(a.send(1, "lost"));
  Recorder rb2;
  PeerTransport b2(io, 1, 42, eps, rb2, {});
  ASSERT_TRUE(b2.listen(eps[1]).is_ok());
  run_until(io, [&] { return a.is_up(1); });
  ASSERT_TRUE(a.send(1, "back"));
  run_until(io, [&] { return !rb2.messages.empty(); });
  EXPECT_EQ(rb2.messages[0].second, "back");
}

TEST(PeerTransport, a_taken_port_is_a_clear_error) {
  asio::io_context io;
  auto eps = endpoints(23040, 1);
  tcp::acceptor squatter(io, eps[0]);
  Recorder r;
  PeerTransport a(io, 0, 42, eps, r, {});
  auto s = a.listen(eps[0]);
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("127.0.0.1:23040"), std::string::npos);
}

}  // namespace
}  // namespace md::net
