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
#include <future>
#include <mutex>
#include <thread>

namespace md::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Held {
  Caller caller;
  core::ClientRequest request;
  ClientDone done;
};

// A server on its own io thread; the requests it submits are held until answer() is called.
class Fixture {
 public:
  explicit Fixture(RespServerOptions options = {})
      : server_(
            io_, options,
            [this](const Caller& c, core::ClientRequest r, ClientDone done) { hold(c, std::move(r), std::move(done)); },
            // The node's gate, as far as this test needs it: one right token.
            [](const Caller& c, ClientDone done) {
              core::ClientResponse r;
              if (c.credentials.secret != "right") r.outcome = core::Outcome::unauthenticated;
              r.message = "wrong token";
              done(std::move(r));
            },
            [] { return resp::NodeInfo{}; }) {
    auto s = server_.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    EXPECT_TRUE(s.is_ok()) << s.message();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Fixture() {
    io_.stop();
    thread_.join();
  }

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
    asio::post(io_, [this, index, value] {
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
    asio::post(io_, [&] { p.set_value(server_.counters()); });
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
    cv_.notify_all();
  }

  asio::io_context io_;
  asio::io_context client_io_;
  RespServer server_;
  std::thread thread_;
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

}  // namespace
}  // namespace md::net
