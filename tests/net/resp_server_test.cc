// The RESP server on loopback (an ephemeral port) with a fake core that answers when, and in the
// order, the test says: replies in command order, one key's commands in the order sent, the
// in-flight bound, and a protocol error answered after the replies before it.
#include "net/resp_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "net/mailbox.h"

namespace md::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Held {
  Caller caller;
  core::ClientRequest request;
  ClientDone done;
};

// A server on its own io thread (the node's); the requests it submits are held until answer() is
// called. With `io_threads`, its connections are served on that many threads more (--threads).
class Fixture {
 public:
  explicit Fixture(RespServerOptions options = {}, size_t io_threads = 0)
      : connection_ios_(unsafe_contexts(io_threads)),
        server_(
            io_, options,
            [this](const Caller& c, core::ClientRequest r, ClientDone done) { hold(c, std::move(r), std::move(done)); },
            // The node's gate, as far as this test needs it: one right token.
            [](const Caller& c, ClientDone done) {
              core::ClientResponse r;
              if (c.credentials.secret != "right") r.outcome = core::Outcome::unauthenticated;
              r.message = "wrong token";
              done(std::move(r));
            },
            [] { return resp::NodeInfo{}; }, contexts(connection_ios_)) {
    auto s = server_.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    EXPECT_TRUE(s.is_ok()) << s.message();
    thread_ = std::thread([this] { io_.run(); });
    // Each context's mailbox (made by now) keeps it running.
    for (auto& io : connection_ios_) connection_threads_.emplace_back([&io] { io.run(); });
  }
  ~Fixture() {
    mailbox_.post([this] { io_.stop(); });
    thread_.join();
    for (auto& io : connection_ios_) Mailbox::of(io).post([&io] { io.stop(); });
    for (auto& t : connection_threads_) t.join();
  }

  // The threads that submitted the requests held so far.
  std::set<std::thread::id> submitting_threads() {
    std::lock_guard lock(mu_);
    return submitting_threads_;
  }
  std::thread::id node_thread() const { return thread_.get_id(); }

  // The keys of the requests held, in the order they were submitted, once there are `n` of them.
  std::vector<std::string> wait_held(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(10), [&] { return held_.size() >= n; });
    std::vector<std::string> keys;
    for (const auto& h : held_) keys.push_back(h.request.key);
    return keys;
  }
  // Who sent held request `index`.
  Caller caller(size_t index) {
    std::lock_guard lock(mu_);
    return held_.at(index).caller;
  }
  // Answers held request `index` with a value, or with not_found when `value` is empty.
  void answer(size_t index, const std::string& value) {
    mailbox_.post([this, index, value] {
      core::ClientResponse r;
      if (value.empty()) {
        r.outcome = core::Outcome::not_found;
      } else {
        r.siblings.push_back(core::Sibling{{"n", 1}, {}, false, "\"" + value + "\""});
      }
      ClientDone done;
      {
        std::lock_guard lock(mu_);
        done = std::move(held_[index].done);
      }
      done(std::move(r));
    });
  }
  RespServer::Counters counters() {
    std::promise<RespServer::Counters> p;
    mailbox_.post([&] { p.set_value(server_.counters()); });
    return p.get_future().get();
  }
  // Waits until the server has read `n` commands.
  void wait_read(uint64_t n) {
    for (int i = 0; i < 1000 && counters().commands < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(counters().commands, n);
  }

  tcp::socket connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_.port()));
    timeval timeout{10, 0};  // a reply that never comes fails the test instead of hanging it
    setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    return s;
  }

 private:
  void hold(const Caller& c, core::ClientRequest r, ClientDone done) {
    std::lock_guard lock(mu_);
    held_.push_back(Held{c, std::move(r), std::move(done)});
    submitting_threads_.insert(std::this_thread::get_id());
    cv_.notify_all();
  }
  // As a node's: Asio's locking off, so under TSan a touch from another thread shows.
  static std::deque<asio::io_context> unsafe_contexts(size_t n) {
    std::deque<asio::io_context> ios;
    for (size_t i = 0; i < n; ++i) ios.emplace_back(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
    return ios;
  }
  static std::vector<asio::io_context*> contexts(std::deque<asio::io_context>& ios) {
    std::vector<asio::io_context*> out;
    for (auto& io : ios) out.push_back(&io);
    return out;
  }

  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};  // the node's, as a node's: locking off
  Mailbox& mailbox_ = Mailbox::of(io_);                      // how the test's thread reaches it
  asio::io_context client_io_;
  std::deque<asio::io_context> connection_ios_;  // before the server, which goes first
  RespServer server_;
  std::thread thread_;
  std::vector<std::thread> connection_threads_;
  std::set<std::thread::id> submitting_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Held> held_;
};

std::string get(const std::string& key) { return "*2\r\n$3\r\nGET\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n"; }

std::string read_bytes(tcp::socket& s, size_t n) {
  std::string out(n, '\0');
  boost::system::error_code ec;
  size_t got = asio::read(s, asio::buffer(out), ec);
  out.resize(got);
  return out;
}

std::string read_to_end(tcp::socket& s) {
  std::string out;
  boost::system::error_code ec;
  asio::read(s, asio::dynamic_buffer(out), ec);
  return out;
}

TEST(RespServer, replies_are_written_in_command_order_when_the_core_answers_in_reverse) {
  Fixture f;
  auto s = f.connect();
  asio::write(s, asio::buffer(get("a") + get("b") + get("c")));
  ASSERT_EQ(f.wait_held(3), (std::vector<std::string>{"a", "b", "c"}));
  f.answer(2, "C");
  f.answer(1, "B");
  f.answer(0, "A");
  EXPECT_EQ(read_bytes(s, 21), "$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n");
}

TEST(RespServer, an_accepted_auth_rides_on_every_later_command_and_a_refused_one_changes_nothing) {
  Fixture f;
  auto s = f.connect();
  asio::write(s, asio::buffer(std::string("*2\r\n$4\r\nAUTH\r\n$5\r\nwrong\r\n") + get("a")));
  EXPECT_EQ(f.wait_held(1), (std::vector<std::string>{"a"}));
  EXPECT_EQ(f.caller(0).credentials.kind, security::Credentials::Kind::none);
  EXPECT_EQ(f.caller(0).protocol, Protocol::resp);
  EXPECT_EQ(f.caller(0).address, "127.0.0.1");
  asio::write(s, asio::buffer(std::string("*2\r\n$4\r\nAUTH\r\n$5\r\nright\r\n") + get("b")));
  EXPECT_EQ(f.wait_held(2), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(f.caller(1).credentials, (security::Credentials{security::Credentials::Kind::token, {}, "right"}));
  f.answer(0, "A");
  f.answer(1, "B");
  EXPECT_EQ(read_bytes(s, 43), "-WRONGPASS wrong token\r\n$1\r\nA\r\n+OK\r\n$1\r\nB\r\n");
}

TEST(RespServer, a_connections_commands_on_one_key_run_in_the_order_it_sent_them) {
  Fixture f;
  auto s = f.connect();
  asio::write(s, asio::buffer("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n" + get("k") + get("other")));
  f.wait_read(3);
  EXPECT_EQ(f.wait_held(1).size(), 1u);  // the GET of k waits for the SET, and what follows for it
  f.answer(0, "");
  EXPECT_EQ(f.wait_held(3), (std::vector<std::string>{"k", "k", "other"}));
  f.answer(1, "v");
  f.answer(2, "");
  EXPECT_EQ(read_bytes(s, 5 + 7 + 5), "+OK\r\n$1\r\nv\r\n$-1\r\n");
}

TEST(RespServer, beyond_the_commands_in_flight_bound_it_reads_no_further_until_one_is_answered) {
  RespServerOptions options;
  options.commands_in_flight_max = 2;
  Fixture f(options);
  auto s = f.connect();
  asio::write(s, asio::buffer(get("a") + get("b") + get("c")));
  f.wait_read(2);
  EXPECT_EQ(f.wait_held(2).size(), 2u);
  EXPECT_EQ(f.counters().commands_in_flight, 2u);
  f.answer(0, "A");
  EXPECT_EQ(f.wait_held(3), (std::vector<std::string>{"a", "b", "c"}));
  f.answer(1, "B");
  f.answer(2, "C");
  EXPECT_EQ(read_bytes(s, 21), "$1\r\nA\r\n$1\r\nB\r\n$1\r\nC\r\n");
  EXPECT_EQ(f.counters().commands_in_flight, 0u);
}

TEST(RespServer, a_protocol_error_is_answered_after_the_replies_before_it_then_the_connection_closes) {
  Fixture f;
  auto s = f.connect();
  asio::write(s, asio::buffer(get("a") + "*1\r\n:5\r\n" + get("never")));
  ASSERT_EQ(f.wait_held(1).size(), 1u);
  f.answer(0, "A");
  EXPECT_EQ(read_to_end(s), "$1\r\nA\r\n-ERR Protocol error: expected '$', got ':'\r\n");
  EXPECT_EQ(f.counters().protocol_errors, 1u);
  EXPECT_EQ(f.wait_held(1).size(), 1u);  // nothing after the error ran
}

// --threads 3: connections are served on two I/O threads, which submit their commands; the node's
// thread answers them (here in reverse), and each connection still gets its replies in order.
// Under TSan (scripts/sanitizers.sh) it also shows that answers are handled on their connection's
// thread: the sweep, every 10 ms here, reads the connections' state there meanwhile.
TEST(RespServer, connections_on_io_threads_get_the_node_threads_answers_in_command_order) {
  RespServerOptions options;
  options.read_timeout_ms = 40;  // the sweep runs every 10 ms; each command arrives in one write
  Fixture f(options, 2);
  auto first = f.connect();
  auto second = f.connect();
  for (size_t round = 0; round < 30; ++round) {
    asio::write(first, asio::buffer(get("a") + get("b")));
    ASSERT_EQ(f.wait_held(4 * round + 2).size(), 4 * round + 2);
    asio::write(second, asio::buffer(get("c") + get("d")));
    const auto keys = f.wait_held(4 * round + 4);
    ASSERT_EQ(keys.size(), 4 * round + 4);
    for (size_t i = keys.size(); i-- > 4 * round;) f.answer(i, keys[i] + "!");
    ASSERT_EQ(read_bytes(first, 16), "$2\r\na!\r\n$2\r\nb!\r\n");
    ASSERT_EQ(read_bytes(second, 16), "$2\r\nc!\r\n$2\r\nd!\r\n");
  }
  const auto threads = f.submitting_threads();
  EXPECT_EQ(threads.size(), 2u);  // one connection on each I/O thread
  EXPECT_FALSE(threads.contains(f.node_thread()));
  EXPECT_EQ(f.counters().connections_open, 2u);
}

}  // namespace
}  // namespace md::net
