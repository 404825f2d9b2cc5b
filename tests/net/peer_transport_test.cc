// Peer transport over real loopback sockets. Ports 23000-23999 only, distinct per test so
// ctest can run the cases in parallel. No sleeps: each wait runs the io_context until a
// condition holds, with a hard deadline that fails the test.
#include "net/peer_transport.h"

#include <utility>

#include <gtest/gtest.h>

#include <array>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "net/frame.h"

namespace md::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kFingerprint = 0xC0FFEE;

struct Recorder : PeerTransport::Handler {
  std::map<NodeIndex, std::vector<std::string>> messages;  // by sender, in arrival order
  std::vector<std::pair<char, NodeIndex>> events;          // 'u' up, 'd' down, in order
  size_t message_count = 0;
  void on_peer_message(NodeIndex from, std::string payload) override {
    messages[from].push_back(std::move(payload));
    ++message_count;
  }
  void on_peer_up(NodeIndex peer) override { events.emplace_back('u', peer); }
  void on_peer_down(NodeIndex peer) override { events.emplace_back('d', peer); }
  int count(char kind, NodeIndex peer) const {
    int n = 0;
    for (const auto& e : events) n += e.first == kind && e.second == peer;
    return n;
  }
};

std::vector<tcp::endpoint> endpoints(std::vector<uint16_t> ports) {
  std::vector<tcp::endpoint> out;
  for (uint16_t p : ports) out.emplace_back(asio::ip::make_address("127.0.0.1"), p);
  return out;
}

std::vector<PeerAddress> addresses(const std::vector<tcp::endpoint>& peers) {
  std::vector<PeerAddress> out;
  for (const auto& ep : peers) out.push_back(PeerAddress{ep.address().to_string(), ep.port()});
  return out;
}

// Options with short timers so failures show up in test time.
PeerTransportOptions fast_options() {
  PeerTransportOptions o;
  o.backoff_initial_ms = 20;
  o.backoff_max_ms = 200;
  o.connect_timeout_ms = 500;
  o.handshake_timeout_ms = 500;
  o.stall_timeout_ms = 1000;
  return o;
}

class PeerTransportTest : public ::testing::Test {
 protected:
  // Runs the io_context until done() holds; false (test fails) after the deadline.
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = Clock::now() + timeout;
    while (!done()) {
      if (Clock::now() >= deadline) return false;
      io.run_one_for(10ms);
    }
    return true;
  }

  std::unique_ptr<PeerTransport> make_node(NodeIndex self, const std::vector<tcp::endpoint>& peers, Recorder& rec,
                                           PeerTransportOptions opt = fast_options(), uint64_t fingerprint = kFingerprint) {
    auto t = std::make_unique<PeerTransport>(io, self, fingerprint, addresses(peers), rec, opt);
    const Status s = t->listen(peers[self]);
    EXPECT_TRUE(s.is_ok()) << s.message();
    return t;
  }

  // A raw client socket connected to `ep`, for speaking bad protocol at a node.
  tcp::socket raw_connect(const tcp::endpoint& ep) {
    tcp::socket s(io);
    bool done = false;
    boost::system::error_code result;
    s.async_connect(ep, [&](const boost::system::error_code& ec) {
      result = ec;
      done = true;
    });
    EXPECT_TRUE(run_until([&] { return done; }));
    EXPECT_FALSE(result) << result.message();
    return s;
  }

  void raw_write(tcp::socket& s, const std::string& bytes) {
    bool done = false;
    asio::async_write(s, asio::buffer(bytes), [&](const boost::system::error_code&, size_t) { done = true; });
    EXPECT_TRUE(run_until([&] { return done; }));
  }

  // Waits until the node closes the raw socket (read ends with EOF or reset).
  bool wait_closed_by_node(tcp::socket& s, std::chrono::milliseconds timeout = 10s) {
    bool closed = false;
    auto buf = std::make_shared<std::array<char, 256>>();
    std::function<void(const boost::system::error_code&, size_t)> on_read = [&](const boost::system::error_code& ec, size_t) {
      if (ec) {
        closed = true;
        return;
      }
      s.async_read_some(asio::buffer(*buf), on_read);
    };
    s.async_read_some(asio::buffer(*buf), on_read);
    const bool ok = run_until([&] { return closed; }, timeout);
    if (!ok) {
      boost::system::error_code ignored;
      s.close(ignored);
      run_until([&] { return closed; }, 1s);  // let the cancelled read finish before `closed` dies
    }
    return ok;
  }

  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard = asio::make_work_guard(io);
};

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

TEST_F(PeerTransportTest, two_nodes_exchange_10000_messages_in_order) {
  const auto peers = endpoints({23100, 23101});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  const auto a_to_b = numbered("a", 10000), b_to_a = numbered("b", 10000);
  // All queued before the connections exist, so thousands are in flight at once.
  for (int i = 0; i < 10000; ++i) {
    ASSERT_TRUE(a->send(1, a_to_b[i]));
    ASSERT_TRUE(b->send(0, b_to_a[i]));
  }
  ASSERT_TRUE(run_until([&] { return ra.message_count == 10000 && rb.message_count == 10000; }));
  EXPECT_EQ(rb.messages[0], a_to_b);
  EXPECT_EQ(ra.messages[1], b_to_a);
  EXPECT_TRUE(a->is_up(1));
  EXPECT_EQ(ra.count('u', 1), 1);
  EXPECT_EQ(ra.count('d', 1), 0);
  EXPECT_EQ(a->counters().frames_sent, 10000u);
  EXPECT_EQ(b->counters().frames_received, 10000u);
}

// A peer known by a name (a DNS name in a deployment) is resolved when connecting, not before.
TEST_F(PeerTransportTest, a_peer_known_by_name_is_resolved_at_connect) {
  const auto peers = endpoints({23300, 23301});
  Recorder ra, rb;
  auto b = make_node(1, peers, rb);
  PeerTransport a(io, 0, kFingerprint, {PeerAddress{"127.0.0.1", 23300}, PeerAddress{"localhost", 23301}}, ra,
                  fast_options());
  ASSERT_TRUE(a.send(1, "by name"));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 1; }));
  EXPECT_EQ(rb.messages[0], std::vector<std::string>{"by name"});

  // A name that does not resolve is a failed connect, reported like one, never a crash.
  Recorder rc;
  PeerTransport c(io, 0, kFingerprint, {PeerAddress{"127.0.0.1", 23302}, PeerAddress{"no-such-host.invalid", 23303}},
                  rc, fast_options());
  c.connect_all();
  ASSERT_TRUE(run_until([&] { return rc.count('d', 1) == 1; }));
  EXPECT_GE(c.counters().connect_failures, 1u);
  EXPECT_FALSE(c.send(1, "nowhere"));
}

TEST_F(PeerTransportTest, three_nodes_exchange_messages_in_order_per_sender) {
  const auto peers = endpoints({23110, 23111, 23112});
  std::array<Recorder, 3> rec;
  std::vector<std::unique_ptr<PeerTransport>> nodes;
  for (NodeIndex i = 0; i < 3; ++i) nodes.push_back(make_node(i, peers, rec[i]));
  // Interleave sends to both peers, with the io loop running in between so sends land
  // both before and while the connections are up.
  constexpr int kPerPair = 10000;
  for (int round = 0; round < 10; ++round) {
    for (int i = round * kPerPair / 10; i < (round + 1) * kPerPair / 10; ++i) {
      for (NodeIndex from = 0; from < 3; ++from) {
        for (NodeIndex to = 0; to < 3; ++to) {
          if (from == to) continue;
          ASSERT_TRUE(nodes[from]->send(to, std::to_string(from) + ">" + std::to_string(to) + ":" + std::to_string(i)));
        }
      }
    }
    io.poll();
  }
  ASSERT_TRUE(run_until([&] {
    return rec[0].message_count == 2 * kPerPair && rec[1].message_count == 2 * kPerPair && rec[2].message_count == 2 * kPerPair;
  }));
  for (NodeIndex to = 0; to < 3; ++to) {
    for (NodeIndex from = 0; from < 3; ++from) {
      if (from == to) continue;
      const auto expected = numbered(std::to_string(from) + ">" + std::to_string(to) + ":", kPerPair);
      EXPECT_EQ(rec[to].messages[from], expected) << "from " << from << " to " << to;
    }
  }
}

TEST_F(PeerTransportTest, restarted_peer_is_reconnected_after_down_then_up) {
  const auto peers = endpoints({23120, 23121});
  Recorder ra, rb1, rb2;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb1);
  ASSERT_TRUE(a->send(1, "before"));
  ASSERT_TRUE(run_until([&] { return rb1.message_count == 1 && a->is_up(1); }));

  b.reset();  // the peer "crashes"
  ASSERT_TRUE(run_until([&] { return ra.count('d', 1) == 1; }));
  EXPECT_FALSE(a->is_up(1));
  EXPECT_FALSE(a->send(1, "while down"));
  EXPECT_GE(a->counters().dropped_sends, 1u);

  auto b2 = make_node(1, peers, rb2);  // same index, same port
  ASSERT_TRUE(run_until([&] { return ra.count('u', 1) == 2; }));
  ASSERT_TRUE(a->send(1, "after"));
  ASSERT_TRUE(run_until([&] { return rb2.message_count == 1; }));
  EXPECT_EQ(rb2.messages[0], std::vector<std::string>{"after"});
  EXPECT_EQ(ra.events, (std::vector<std::pair<char, NodeIndex>>{{'u', 1}, {'d', 1}, {'u', 1}}));
}

TEST_F(PeerTransportTest, garbage_on_listen_port_closes_only_that_connection) {
  const auto peers = endpoints({23130, 23131});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  auto raw = raw_connect(peers[1]);
  raw_write(raw, "GET / HTTP/1.1\r\nHost: example\r\n\r\n");
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(b->counters().closed_bad_handshake, 1u);

  ASSERT_TRUE(a->send(1, "still works"));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 1; }));
  EXPECT_EQ(rb.messages[0], std::vector<std::string>{"still works"});
}

TEST_F(PeerTransportTest, bad_checksum_after_hello_closes_connection_and_others_keep_working) {
  const auto peers = endpoints({23140, 23141, 23142});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  auto raw = raw_connect(peers[1]);
  std::string bad = encode_frame("good payload");
  bad[kFrameHeaderBytes] ^= 0x20;
  raw_write(raw, encode_frame(make_hello_payload(2, kFingerprint)) + encode_frame("ok") + bad);
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(b->counters().closed_bad_frame, 1u);
  EXPECT_EQ(rb.messages[2], std::vector<std::string>{"ok"});  // frames before the bad one were delivered

  ASSERT_TRUE(a->send(1, "still works"));
  ASSERT_TRUE(run_until([&] { return rb.messages[0].size() == 1; }));
}

TEST_F(PeerTransportTest, oversized_frame_after_hello_closes_connection_before_its_body) {
  const auto peers = endpoints({23150, 23151});
  Recorder rb;
  auto opt = fast_options();
  opt.frame_bytes_max = 1024;
  auto b = make_node(1, peers, rb, opt);
  auto raw = raw_connect(peers[1]);
  const std::string big = encode_frame(std::string(4096, 'x'));
  // Only the header: the node must not wait for the body to refuse it.
  raw_write(raw, encode_frame(make_hello_payload(0, kFingerprint)) + big.substr(0, kFrameHeaderBytes));
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(b->counters().closed_oversized, 1u);
  EXPECT_EQ(rb.message_count, 0u);
}

TEST_F(PeerTransportTest, wrong_cluster_fingerprint_is_refused) {
  const auto peers = endpoints({23160, 23161});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra, fast_options(), /*fingerprint=*/1111);
  auto b = make_node(1, peers, rb, fast_options(), /*fingerprint=*/2222);
  ASSERT_TRUE(a->send(1, "from another cluster"));
  ASSERT_TRUE(run_until([&] { return b->counters().closed_bad_handshake >= 1 && ra.count('d', 1) >= 1; }));
  EXPECT_EQ(rb.message_count, 0u);

  // A raw hello with the wrong fingerprint is refused the same way.
  auto raw = raw_connect(peers[1]);
  raw_write(raw, encode_frame(make_hello_payload(0, 3333)));
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(rb.message_count, 0u);
}

TEST_F(PeerTransportTest, hello_with_sender_index_out_of_range_is_refused) {
  const auto peers = endpoints({23220, 23221});
  Recorder rb;
  auto b = make_node(1, peers, rb);
  auto raw = raw_connect(peers[1]);
  raw_write(raw, encode_frame(make_hello_payload(7, kFingerprint)) + encode_frame("x"));
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(b->counters().closed_bad_handshake, 1u);
  EXPECT_EQ(rb.message_count, 0u);
}

TEST_F(PeerTransportTest, connection_without_hello_is_closed_after_handshake_timeout) {
  const auto peers = endpoints({23170, 23171});
  Recorder rb;
  auto opt = fast_options();
  opt.handshake_timeout_ms = 200;
  auto b = make_node(1, peers, rb, opt);
  const auto start = Clock::now();
  auto raw = raw_connect(peers[1]);
  raw_write(raw, std::string("MDPE"));  // a partial hello does not count
  ASSERT_TRUE(wait_closed_by_node(raw, 5s));
  const auto elapsed = Clock::now() - start;
  EXPECT_GE(elapsed, 200ms);
  EXPECT_LT(elapsed, 3s);
  EXPECT_EQ(b->counters().closed_bad_handshake, 1u);
}

// Accepts connections and never reads from them.
struct HungPeer {
  HungPeer(asio::io_context& io, const tcp::endpoint& ep) : acceptor(io, ep) { accept(); }
  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
      if (ec) return;
      sockets.push_back(std::move(s));
      accept();
    });
  }
  tcp::acceptor acceptor;
  std::vector<tcp::socket> sockets;
};

TEST_F(PeerTransportTest, hung_peer_is_closed_after_stall_timeout_and_others_keep_working) {
  const auto peers = endpoints({23180, 23181, 23182});
  Recorder ra, rc;
  auto opt = fast_options();
  opt.stall_timeout_ms = 300;
  opt.send_queue_bytes_max = size_t{1} << 30;  // so the stall, not the queue bound, trips
  auto a = make_node(0, peers, ra, opt);
  HungPeer hung(io, peers[1]);
  auto c = make_node(2, peers, rc, opt);

  // Far more than the loopback socket buffers hold: the writes stop making progress.
  const std::string big(1 << 20, 'h');
  for (int i = 0; i < 64; ++i) ASSERT_TRUE(a->send(1, big));
  ASSERT_TRUE(run_until([&] { return ra.count('u', 1) == 1; }));
  const auto up_at = Clock::now();
  int sent_to_c = 0;
  // Meanwhile node 0 keeps talking to node 2.
  ASSERT_TRUE(run_until([&] {
    if (a->send(2, std::to_string(sent_to_c))) ++sent_to_c;
    return ra.count('d', 1) == 1;
  }));
  const auto down_after = Clock::now() - up_at;
  EXPECT_EQ(a->counters().closed_hung, 1u);
  EXPECT_GE(down_after, 300ms);
  EXPECT_LT(down_after, 3s);
  EXPECT_FALSE(a->is_up(1));
  EXPECT_FALSE(a->send(1, "refused while down"));
  EXPECT_GT(a->counters().dropped_queued, 0u);

  ASSERT_TRUE(run_until([&] { return rc.message_count == static_cast<size_t>(sent_to_c); }));
  EXPECT_GT(sent_to_c, 0);
  EXPECT_EQ(rc.messages[0], numbered("", sent_to_c));

  // The transport reconnects (with backoff) to the peer that still accepts.
  ASSERT_TRUE(run_until([&] { return ra.count('u', 1) == 2; }));
}

TEST_F(PeerTransportTest, send_queue_over_its_max_closes_hung_peer) {
  const auto peers = endpoints({23190, 23191});
  Recorder ra;
  auto opt = fast_options();
  opt.send_queue_bytes_max = 8 << 20;
  opt.stall_timeout_ms = 60000;  // so the queue bound, not the stall, trips
  auto a = make_node(0, peers, ra, opt);
  HungPeer hung(io, peers[1]);
  ASSERT_TRUE(a->send(1, "first"));
  ASSERT_TRUE(run_until([&] { return a->is_up(1); }));
  const std::string big(1 << 20, 'q');
  int accepted = 0;
  ASSERT_TRUE(run_until([&] {
    if (a->send(1, big)) ++accepted;
    return !a->is_up(1);
  }));
  EXPECT_EQ(a->counters().closed_hung, 1u);
  EXPECT_GE(a->counters().dropped_sends, 1u);
  ASSERT_TRUE(run_until([&] { return ra.count('d', 1) == 1; }));
  EXPECT_GE(accepted, 8);  // the kernel buffers took some, the queue the rest
}

TEST_F(PeerTransportTest, send_to_port_with_nothing_listening_goes_down_then_refuses) {
  const auto peers = endpoints({23200, 23201});  // nothing listens on 23201
  Recorder ra;
  auto a = make_node(0, peers, ra);
  EXPECT_TRUE(a->send(1, "queued while connecting"));
  ASSERT_TRUE(run_until([&] { return ra.count('d', 1) == 1; }));
  EXPECT_FALSE(a->is_up(1));
  EXPECT_FALSE(a->send(1, "refused"));
  const auto c = a->counters();
  EXPECT_GE(c.connect_failures, 1u);
  EXPECT_EQ(c.dropped_queued, 1u);
  EXPECT_EQ(c.dropped_sends, 1u);
  // Reconnect attempts keep failing without reporting down again.
  ASSERT_TRUE(run_until([&] { return a->counters().connect_failures >= 3; }));
  EXPECT_EQ(ra.count('d', 1), 1);
  EXPECT_EQ(ra.count('u', 1), 0);
}

TEST_F(PeerTransportTest, listen_on_taken_port_fails_with_clear_error) {
  const auto peers = endpoints({23210, 23211});
  Recorder r1, r2;
  auto first = make_node(0, peers, r1);
  PeerTransport second(io, 0, kFingerprint, addresses(peers), r2, fast_options());
  const Status s = second.listen(peers[0]);
  ASSERT_FALSE(s.is_ok());
  EXPECT_EQ(s.code(), Code::io_error);
  EXPECT_NE(s.message().find("127.0.0.1:23210"), std::string::npos) << s.message();
}

TEST_F(PeerTransportTest, no_callbacks_after_stop) {
  const auto peers = endpoints({23230, 23231});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(a->send(1, "m"));
  ASSERT_TRUE(run_until([&] { return rb.message_count > 0; }));
  b->stop();
  a->stop();
  const size_t messages = rb.message_count;
  const size_t events = ra.events.size();
  EXPECT_FALSE(a->send(1, "after stop"));
  io.run_for(100ms);  // drain the cancelled operations
  EXPECT_EQ(rb.message_count, messages);
  EXPECT_EQ(ra.events.size(), events);
}

TEST_F(PeerTransportTest, connect_all_brings_peers_up_without_sending) {
  const auto peers = endpoints({23240, 23241, 23242});
  std::array<Recorder, 3> rec;
  std::vector<std::unique_ptr<PeerTransport>> nodes;
  for (NodeIndex i = 0; i < 3; ++i) nodes.push_back(make_node(i, peers, rec[i]));
  nodes[0]->connect_all();
  ASSERT_TRUE(run_until([&] { return nodes[0]->is_up(1) && nodes[0]->is_up(2); }));
  EXPECT_EQ(rec[0].count('u', 1), 1);  // the two connects race, so no order is asserted
  EXPECT_EQ(rec[0].count('u', 2), 1);
  EXPECT_EQ(rec[0].events.size(), 2u);
  EXPECT_FALSE(nodes[1]->is_up(0));  // lazy: node 1 has sent nothing yet
}

TEST_F(PeerTransportTest, payload_over_frame_max_is_refused_locally_and_connection_stays_up) {
  const auto peers = endpoints({23250, 23251});
  Recorder ra, rb;
  auto opt = fast_options();
  opt.frame_bytes_max = 1000;
  auto a = make_node(0, peers, ra, opt);
  auto b = make_node(1, peers, rb, opt);
  ASSERT_TRUE(a->send(1, std::string(1000, 'a')));
  EXPECT_FALSE(a->send(1, std::string(1001, 'b')));
  ASSERT_TRUE(a->send(1, "after"));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 2; }));
  EXPECT_EQ(rb.messages[0].back(), "after");
  EXPECT_EQ(a->counters().dropped_sends, 1u);
  EXPECT_TRUE(a->is_up(1));
  EXPECT_EQ(b->counters().closed_oversized, 0u);
}

TEST_F(PeerTransportTest, large_payloads_arrive_intact) {
  const auto peers = endpoints({23260, 23261});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  std::vector<std::string> sent;
  for (int i = 0; i < 4; ++i) {
    std::string p(8 << 20, '\0');
    for (size_t j = 0; j < p.size(); j += 4096) p[j] = static_cast<char>('a' + (j / 4096 + i) % 26);
    sent.push_back(p);
    ASSERT_TRUE(a->send(1, std::move(p)));
  }
  ASSERT_TRUE(run_until([&] { return rb.message_count == 4; }));
  EXPECT_TRUE(rb.messages[0] == sent);
  EXPECT_EQ(b->counters().closed_bad_frame, 0u);
}

TEST_F(PeerTransportTest, incoming_connections_over_the_limit_are_closed) {
  const auto peers = endpoints({23270, 23271});
  Recorder rb;
  auto opt = fast_options();
  opt.incoming_connections_max = 1;
  auto b = make_node(1, peers, rb, opt);
  auto first = raw_connect(peers[1]);
  auto second = raw_connect(peers[1]);
  ASSERT_TRUE(wait_closed_by_node(second));
  EXPECT_EQ(b->counters().closed_over_limit, 1u);
  raw_write(first, encode_frame(make_hello_payload(0, kFingerprint)) + encode_frame("first is served"));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 1; }));
}


// ----------------------------------------------------------------------------- compression

// A document-like payload that compresses well, of about `bytes` bytes.
std::string compressible(size_t bytes, const std::string& tag) {
  std::string out = tag;
  for (int i = 0; out.size() < bytes; ++i) out += "{\"id\":" + std::to_string(i) + ",\"city\":\"Lisbon\",\"ok\":true},";
  return out;
}

// A handler that, like the runtime, takes a "hello:<decodes>" message as the sender's Hello.
struct HelloRecorder : Recorder {
  PeerTransport* transport = nullptr;
  void on_peer_message(NodeIndex from, std::string payload) override {
    if (payload.rfind("hello:", 0) == 0) transport->set_peer_decodes(from, static_cast<CodecSet>(std::stoul(payload.substr(6))));
    Recorder::on_peer_message(from, std::move(payload));
  }
  // Sends `from`'s hello (what it decodes) to `to`.
  static bool hello(PeerTransport& from, NodeIndex to) { return from.send(to, "hello:" + std::to_string(from.decodes())); }
};

PeerTransportOptions compression_off() {
  auto o = fast_options();
  o.compression.clear();
  return o;
}

TEST_F(PeerTransportTest, frames_are_compressed_only_for_a_peer_that_said_it_decodes_them) {
  const auto peers = endpoints({23500, 23501});
  Recorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  EXPECT_EQ(a->decodes(), codec_bit(Codec::zstd) | codec_bit(Codec::lz4));
  const std::string big = compressible(20000, "first");
  ASSERT_TRUE(a->send(1, big));  // a knows nothing of b yet: plain
  ASSERT_TRUE(run_until([&] { return rb.message_count == 1; }));
  EXPECT_EQ(a->counters().frames_compressed_sent, 0u);

  a->set_peer_decodes(1, b->decodes());
  const uint64_t plain_bytes = a->counters().bytes_sent;
  const std::string big2 = compressible(20000, "second");
  ASSERT_TRUE(a->send(1, big2));
  ASSERT_TRUE(a->send(1, "short"));  // under compression_min_bytes: plain
  ASSERT_TRUE(run_until([&] { return rb.message_count == 3; }));
  EXPECT_EQ(rb.messages[0], (std::vector<std::string>{big, big2, "short"}));
  EXPECT_EQ(a->counters().frames_compressed_sent, 1u);
  EXPECT_EQ(b->counters().frames_compressed_received, 1u);
  ASSERT_TRUE(run_until([&] { return a->counters().frames_sent == 3; }));
  EXPECT_LT(a->counters().bytes_sent - plain_bytes, big2.size() / 4);  // what crossed the wire

  // Only lz4 in common: lz4 it is.
  a->set_peer_decodes(1, codec_bit(Codec::lz4));
  ASSERT_TRUE(a->send(1, compressible(20000, "third")));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 4; }));
  EXPECT_EQ(a->counters().frames_compressed_sent, 2u);
}

TEST_F(PeerTransportTest, a_node_with_compression_off_advertises_nothing_and_is_sent_plain_frames) {
  const auto peers = endpoints({23510, 23511});
  HelloRecorder ra, rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb, compression_off());
  ra.transport = a.get();
  rb.transport = b.get();
  EXPECT_EQ(b->decodes(), 0u);
  ASSERT_TRUE(HelloRecorder::hello(*a, 1));
  ASSERT_TRUE(HelloRecorder::hello(*b, 0));
  ASSERT_TRUE(run_until([&] { return ra.message_count == 1 && rb.message_count == 1; }));
  const std::string to_b = compressible(20000, "to b"), to_a = compressible(20000, "to a");
  ASSERT_TRUE(a->send(1, to_b));
  ASSERT_TRUE(b->send(0, to_a));
  ASSERT_TRUE(run_until([&] { return ra.message_count == 2 && rb.message_count == 2; }));
  EXPECT_EQ(rb.messages[0].back(), to_b);
  EXPECT_EQ(ra.messages[1].back(), to_a);
  EXPECT_EQ(a->counters().frames_compressed_sent, 0u);  // b did not advertise
  EXPECT_EQ(b->counters().frames_compressed_sent, 0u);  // off: never compresses
  EXPECT_EQ(b->counters().frames_compressed_received, 0u);
}

TEST_F(PeerTransportTest, what_a_peer_decodes_is_forgotten_when_the_connection_that_said_it_closes) {
  const auto peers = endpoints({23520, 23521});
  HelloRecorder ra;
  Recorder rb;
  auto a = make_node(0, peers, ra);
  auto b = make_node(1, peers, rb);
  ra.transport = a.get();
  ASSERT_TRUE(HelloRecorder::hello(*b, 0));
  ASSERT_TRUE(run_until([&] { return ra.message_count == 1; }));
  ASSERT_TRUE(a->send(1, compressible(5000, "x")));
  ASSERT_TRUE(run_until([&] { return rb.message_count == 1; }));
  EXPECT_EQ(a->counters().frames_compressed_sent, 1u);

  // b restarts without compression (or as an older version): a must not go on compressing.
  b.reset();
  ASSERT_TRUE(run_until([&] { return ra.count('d', 1) == 1; }));
  Recorder rb2;
  b = make_node(1, peers, rb2, compression_off());
  ASSERT_TRUE(run_until([&] { return a->is_up(1); }));
  ASSERT_TRUE(a->send(1, compressible(5000, "y")));
  ASSERT_TRUE(run_until([&] { return rb2.message_count == 1; }));
  EXPECT_EQ(a->counters().frames_compressed_sent, 1u);
  EXPECT_EQ(b->counters().frames_compressed_received, 0u);
}

TEST_F(PeerTransportTest, a_compression_bomb_closes_only_its_connection) {
  const auto peers = endpoints({23530, 23531, 23532});
  Recorder ra, rb;
  auto opt = fast_options();
  opt.frame_bytes_max = 64 << 10;
  auto a = make_node(0, peers, ra, opt);
  auto b = make_node(1, peers, rb, opt);
  auto raw = raw_connect(peers[1]);
  std::string bomb;  // 16 MiB of one letter, a few hundred bytes on the wire, well under the frame max
  ASSERT_EQ(append_frame(bomb, std::string(16 << 20, 'a'), Codec::zstd, 0), Codec::zstd);
  ASSERT_LT(bomb.size(), 4096u);
  raw_write(raw, encode_frame(make_hello_payload(2, kFingerprint)) + encode_frame("before") + bomb);
  ASSERT_TRUE(wait_closed_by_node(raw));
  EXPECT_EQ(b->counters().closed_oversized, 1u);
  EXPECT_EQ(rb.messages[2], std::vector<std::string>{"before"});

  ASSERT_TRUE(a->send(1, "still works"));
  ASSERT_TRUE(run_until([&] { return rb.messages[0].size() == 1; }));
  EXPECT_EQ(b->counters().closed_oversized, 1u);
}

}  // namespace
}  // namespace md::net
