// The HTTP server and client on loopback (ports 24000-24999, distinct per test).
#include "net/http_server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <deque>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "net/compression.h"
#include "net/http_client.h"
#include "net/mailbox.h"

namespace md::net {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// A server on its own io thread; the handler echoes what it saw.
class ServerFixture {
 public:
  ServerFixture(uint16_t port, HttpServerOptions options = {}) : server_(io_, options, [this](HttpRequest&& r, Responder respond) {
    handle(std::move(r), std::move(respond));
  }) {
    auto s = server_.listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    EXPECT_TRUE(s.is_ok()) << s.message();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~ServerFixture() {
    asio::post(io_, [this] { server_.stop(); });
    io_.stop();
    thread_.join();
  }
  void stop() {
    std::promise<void> p;
    asio::post(io_, [&] { server_.stop(); p.set_value(); });
    p.get_future().get();
  }
  // Answers the request held at /hold.
  void release() {
    asio::post(io_, [this] { held_(HttpResponse{200, "released", "text/plain", {}}); });
  }
  HttpServer::Counters counters() {
    std::promise<HttpServer::Counters> p;
    asio::post(io_, [&] { p.set_value(server_.counters()); });
    return p.get_future().get();
  }

 private:
  void handle(HttpRequest&& r, Responder respond) {
    std::string body = std::string(r.method_string) + " " + r.path + " [";
    for (const auto& [k, v] : r.query) body += k + "=" + v + ";";
    body += "] " + r.body;
    if (r.path == "/hold") {  // answered by release()
      held_ = std::move(respond);
      return;
    }
    if (r.path == "/later" || r.path == "/slow") {  // answers from a timer, after the handler returned
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(r.path == "/later" ? 20 : 1000));
      timer->async_wait([timer, respond, body](boost::system::error_code) { respond(HttpResponse{202, body, "text/plain", {}}); });
      return;
    }
    HttpResponse response{200, body, "text/plain", {}};
    if (r.path == "/headers") response.headers = {{"Access-Control-Allow-Origin", "*"}, {"X-Test", "yes"}};
    respond(std::move(response));
  }
  asio::io_context io_;
  Responder held_;
  HttpServer server_;
  std::thread thread_;
};

std::string raw_exchange(uint16_t port, const std::string& request, bool half_close = false) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  asio::write(s, asio::buffer(request));
  if (half_close) s.shutdown(tcp::socket::shutdown_send);
  std::string reply;
  boost::system::error_code ec;
  char buf[4096];
  while (true) {
    size_t n = s.read_some(asio::buffer(buf), ec);
    if (ec) break;
    reply.append(buf, n);
    if (reply.find("\r\n\r\n") != std::string::npos && !half_close) break;
  }
  return reply;
}

TEST(HttpServer, the_handler_sees_method_decoded_path_query_and_body_and_keep_alive_works) {
  ServerFixture server(24001);
  HttpClient client("127.0.0.1", 24001, 5000);
  for (int i = 0; i < 3; ++i) {  // one connection, several requests
    auto r = client.request(http::verb::get, "/kv/user%20" + std::to_string(i) + "?R=2&x=a+b", R"({"R":2})");
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    EXPECT_EQ(r->status, 200u);
    EXPECT_EQ(r->body, "GET /kv/user " + std::to_string(i) + " [R=2;x=a b;] {\"R\":2}");
  }
  EXPECT_EQ(server.counters().connections_accepted, 1u);
}

TEST(HttpServer, a_response_carries_the_handlers_extra_headers) {
  ServerFixture server(24190);
  auto reply = raw_exchange(24190, "GET /headers HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(reply.find("\r\nAccess-Control-Allow-Origin: *\r\n"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\r\nX-Test: yes\r\n"), std::string::npos) << reply;
  EXPECT_EQ(raw_exchange(24190, "GET /plain HTTP/1.1\r\nHost: x\r\n\r\n").find("Access-Control"), std::string::npos);
}

TEST(HttpServer, an_asynchronous_answer_is_delivered) {
  ServerFixture server(24002);
  HttpClient client("127.0.0.1", 24002, 5000);
  auto r = client.request(http::verb::put, "/later", "body");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->status, 202u);
  EXPECT_EQ(r->body, "PUT /later [] body");
}

TEST(HttpServer, a_request_is_in_flight_until_its_answer_is_written_and_a_stopped_server_still_answers_it) {
  ServerFixture server(24008);
  HttpClient client("127.0.0.1", 24008, 5000);
  auto answer = std::async(std::launch::async, [&] { return client.request(http::verb::get, "/hold"); });
  auto in_flight_becomes = [&](uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (server.counters().requests_in_flight != n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return server.counters().requests_in_flight == n;
  };
  ASSERT_TRUE(in_flight_becomes(1));
  server.stop();  // no new connections
  HttpClient newcomer("127.0.0.1", 24008, 1000);
  EXPECT_FALSE(newcomer.request(http::verb::get, "/x").is_ok());
  server.release();
  auto r = answer.get();
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->body, "released");
  EXPECT_TRUE(in_flight_becomes(0));  // once its answer is written
}

TEST(HttpServer, an_acceptable_expect_100_continue_request_gets_continue_then_the_answer) {
  ServerFixture server(24003);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 24003));
  asio::write(s, asio::buffer(std::string("PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")));
  char buf[4096];
  size_t n = s.read_some(asio::buffer(buf));
  EXPECT_EQ(std::string(buf, n).rfind("HTTP/1.1 100 Continue", 0), 0u);
  asio::write(s, asio::buffer(std::string("data")));
  std::string reply;
  while (reply.find("data") == std::string::npos) {
    n = s.read_some(asio::buffer(buf));
    reply.append(buf, n);
  }
  EXPECT_EQ(reply.rfind("HTTP/1.1 200", 0), 0u) << reply;
}

TEST(HttpServer, a_100_continue_request_whose_body_came_without_waiting_is_answered) {
  ServerFixture server(24012);
  // The body right behind the header, and half of it in a second write after the 100 (if any).
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 24012));
  asio::write(s, asio::buffer(std::string("PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\nExpect: 100-continue\r\n\r\nfour")));
  asio::write(s, asio::buffer(std::string("more")));
  std::string reply;
  char buf[4096];
  while (reply.find("fourmore") == std::string::npos) {
    boost::system::error_code ec;
    const size_t n = s.read_some(asio::buffer(buf), ec);
    ASSERT_FALSE(ec) << ec.message() << ": " << reply;
    reply.append(buf, n);
  }
  EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << reply;
}

TEST(HttpServer, oversized_bodies_are_413_before_upload_and_bad_requests_are_400) {
  HttpServerOptions options;
  options.body_bytes_max = 100;
  ServerFixture server(24004, options);
  auto big = raw_exchange(24004, "PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_EQ(big.rfind("HTTP/1.1 413", 0), 0u) << big;
  auto chunked = raw_exchange(24004, "PUT /kv/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                                     "C8\r\n" + std::string(200, 'x') + "\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.rfind("HTTP/1.1 413", 0), 0u) << chunked;
  auto garbage = raw_exchange(24004, "THIS IS NOT HTTP\r\n\r\n", true);
  EXPECT_EQ(garbage.rfind("HTTP/1.1 400", 0), 0u) << garbage;
  EXPECT_NE(garbage.find(R"("status":"error")"), std::string::npos);
  auto escape = raw_exchange(24004, "GET /kv/%zz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(escape.rfind("HTTP/1.1 400", 0), 0u) << escape;
  HttpClient client("127.0.0.1", 24004, 5000);  // still serving
  EXPECT_EQ(client.request(http::verb::get, "/ok")->status, 200u);
  EXPECT_GE(server.counters().too_large, 2u);
}

TEST(HttpServer, a_silent_connection_is_closed_after_the_idle_timeout) {
  HttpServerOptions options;
  options.idle_timeout_ms = 100;
  ServerFixture server(24005, options);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 24005));
  char byte;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);  // returns when the server closes
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
}

TEST(HttpServer, a_request_that_does_not_arrive_whole_within_the_read_timeout_is_closed) {
  HttpServerOptions options;
  options.read_timeout_ms = 100;
  ServerFixture server(24009, options);
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 24009));
  asio::write(s, asio::buffer(std::string("PUT /kv/k HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")));
  char byte;
  boost::system::error_code ec;
  s.read_some(asio::buffer(&byte, 1), ec);  // returns when the server closes: no answer to half a request
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_EQ(server.counters().requests, 0u);
}

TEST(HttpServer, pipelined_requests_are_answered_in_request_order_even_when_an_earlier_one_answers_later) {
  ServerFixture server(24010);
  // Three requests in one write; the second is answered from a timer, after the handler returned.
  auto reply = raw_exchange(24010,
                            "GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
                            "PUT /later HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nbody"
                            "GET /third HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            true);
  const auto first = reply.find("GET /first []"), later = reply.find("PUT /later [] body"), third = reply.find("GET /third []");
  ASSERT_NE(first, std::string::npos) << reply;
  ASSERT_NE(later, std::string::npos) << reply;
  ASSERT_NE(third, std::string::npos) << reply;
  EXPECT_LT(first, later);
  EXPECT_LT(later, third);
  EXPECT_NE(reply.find("HTTP/1.1 202"), std::string::npos);
  EXPECT_EQ(server.counters().requests, 3u);
}

TEST(HttpServer, an_http_1_0_request_is_answered_in_http_1_0_and_closed_unless_it_asks_for_keep_alive) {
  ServerFixture server(24011);
  auto closed = raw_exchange(24011, "GET /a HTTP/1.0\r\n\r\n", true);
  EXPECT_EQ(closed.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << closed;
  EXPECT_EQ(closed.find("keep-alive"), std::string::npos) << closed;
  // Kept alive: a second request on the same connection is answered too.
  auto kept = raw_exchange(24011,
                           "GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
                           "GET /c HTTP/1.0\r\n\r\n",
                           true);
  EXPECT_NE(kept.find("Connection: keep-alive"), std::string::npos) << kept;
  EXPECT_NE(kept.find("GET /b []"), std::string::npos) << kept;
  EXPECT_NE(kept.find("GET /c []"), std::string::npos) << kept;
}

TEST(HttpClient, a_closed_port_is_a_clear_unavailable_error) {
  HttpClient client("127.0.0.1", 24006, 1000);
  auto r = client.request(http::verb::get, "/health");
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::unavailable);
  EXPECT_NE(r.status().message().find("127.0.0.1:24006"), std::string::npos);
}

TEST(HttpClient, a_request_that_timed_out_on_a_kept_alive_connection_is_not_sent_again) {
  ServerFixture server(24007);
  HttpClient client("127.0.0.1", 24007, 300);
  ASSERT_EQ(client.request(http::verb::get, "/ok")->status, 200u);  // the connection is kept alive
  auto r = client.request(http::verb::put, "/slow", "a write");   // answered after 1 s
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(server.counters().requests, 2u);  // the server may have applied it: once is all it gets
}

TEST(HttpClient, keys_are_percent_encoded_as_one_path_segment) {
  EXPECT_EQ(url_encode_path_segment("a b/c?d%"), "a%20b%2Fc%3Fd%25");
  EXPECT_EQ(percent_decode(url_encode_path_segment("a b/c?d%"), false), "a b/c?d%");
  EXPECT_EQ(percent_decode("%4", false), std::nullopt);
}

// ----------------------------------------------------------------------------- compression

// One request with these headers and body on a fresh connection; the whole answer.
http::response<http::string_body> send_request(uint16_t port, http::verb verb, const std::string& target, const std::string& body,
                                           const std::vector<std::pair<http::field, std::string>>& headers) {
  asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  http::request<http::string_body> request{verb, target, 11};
  request.set(http::field::host, "test");
  for (const auto& [field, value] : headers) request.set(field, value);
  request.body() = body;
  request.prepare_payload();
  http::write(stream, request);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  return response;
}

std::string document(size_t bytes) {
  std::string out = "{\"customers\":[";
  for (int i = 0; out.size() < bytes; ++i) out += "{\"id\":" + std::to_string(i) + ",\"name\":\"Ada\",\"city\":\"Oslo\"},";
  return out + "{}]}";
}

TEST(HttpServer, gzip_and_zstd_request_bodies_reach_the_handler_inflated) {
  ServerFixture server(24500);
  const std::string body = document(20000);
  for (Codec codec : {Codec::gzip, Codec::zstd}) {
    auto r = send_request(24500, http::verb::put, "/kv/a", compress(codec, body),
                      {{http::field::content_encoding, std::string(codec_name(codec))}});
    EXPECT_EQ(r.result_int(), 200u) << codec_name(codec) << ": " << r.body();
    EXPECT_EQ(r.body(), "PUT /kv/a [] " + body) << codec_name(codec);
  }
  auto identity = send_request(24500, http::verb::put, "/kv/a", "plain", {{http::field::content_encoding, "identity"}});
  EXPECT_EQ(identity.body(), "PUT /kv/a [] plain");
  EXPECT_EQ(server.counters().compressed_requests, 2u);
}

TEST(HttpServer, an_unknown_coding_is_415_and_malformed_compressed_data_400) {
  ServerFixture server(24501);
  auto unknown = send_request(24501, http::verb::put, "/kv/a", "x", {{http::field::content_encoding, "br"}});
  EXPECT_EQ(unknown.result_int(), 415u);
  EXPECT_EQ(unknown.body(), R"({"status":"error","error":"Content-Encoding 'br' is not supported; send gzip, zstd or identity"})");
  for (const char* coding : {"gzip", "zstd"}) {
    auto bad = send_request(24501, http::verb::put, "/kv/a", "this is not compressed", {{http::field::content_encoding, coding}});
    EXPECT_EQ(bad.result_int(), 400u) << coding;
    EXPECT_NE(bad.body().find("is not valid"), std::string::npos) << bad.body();
  }
}

TEST(HttpServer, a_small_body_that_inflates_past_the_limit_is_413) {
  HttpServerOptions options;
  options.body_bytes_max = 64 << 10;
  ServerFixture server(24502, options);
  const std::string bomb_text(4 << 20, ' ');  // 4 MiB of spaces: 18 KiB in gzip -1, 150 bytes in zstd
  for (Codec codec : {Codec::gzip, Codec::zstd}) {
    const std::string bomb = compress(codec, bomb_text);
    ASSERT_LT(bomb.size(), 40u << 10) << codec_name(codec);  // the body itself is under the limit
    auto r = send_request(24502, http::verb::put, "/kv/a", bomb, {{http::field::content_encoding, std::string(codec_name(codec))}});
    EXPECT_EQ(r.result_int(), 413u) << codec_name(codec);
    EXPECT_EQ(r.body(), R"({"status":"error","error":"the body inflates past the limit of 65536 bytes"})");
  }
  // The limit is on the inflated body: one just under it passes.
  const std::string fits(60 << 10, 'a');
  auto ok = send_request(24502, http::verb::put, "/kv/a", compress(Codec::zstd, fits), {{http::field::content_encoding, "zstd"}});
  EXPECT_EQ(ok.result_int(), 200u);
  EXPECT_EQ(ok.body().size(), std::string("PUT /kv/a [] ").size() + fits.size());
  EXPECT_EQ(server.counters().too_large, 2u);
}

TEST(HttpServer, responses_are_compressed_as_accept_encoding_asks_above_the_threshold) {
  HttpServerOptions options;
  options.compression_min_bytes = 1000;
  ServerFixture server(24503, options);
  const std::string big = document(5000);
  const std::string expected = "PUT /kv/a [] " + big;
  struct Case {
    std::string accept;
    Codec codec;
  };
  for (const Case& c : {Case{"gzip", Codec::gzip}, Case{"zstd", Codec::zstd}, Case{"gzip, zstd", Codec::zstd},
                        Case{"zstd;q=0.2, gzip;q=0.9", Codec::gzip}, Case{"identity", Codec::identity},
                        Case{"*;q=0", Codec::identity}, Case{"", Codec::identity}}) {
    std::vector<std::pair<http::field, std::string>> headers;
    if (!c.accept.empty()) headers.emplace_back(http::field::accept_encoding, c.accept);
    auto r = send_request(24503, http::verb::put, "/kv/a", big, headers);
    EXPECT_EQ(r[http::field::vary], "Accept-Encoding") << c.accept;
    if (c.codec == Codec::identity) {
      EXPECT_EQ(r[http::field::content_encoding], "") << c.accept;
      EXPECT_EQ(r.body(), expected) << c.accept;
    } else {
      EXPECT_EQ(std::string(r[http::field::content_encoding]), codec_name(c.codec)) << c.accept;
      EXPECT_LT(r.body().size(), expected.size() / 3) << c.accept;
      auto inflated = decompress(c.codec, r.body(), 1 << 20);
      ASSERT_TRUE(inflated.is_ok()) << inflated.status().message();
      EXPECT_EQ(*inflated, expected) << c.accept;
    }
  }
  // Under the threshold: as it is, even when compression is welcome.
  const std::string small(900, 'x');
  auto r = send_request(24503, http::verb::put, "/kv/a", small.substr(0, 900 - std::string("PUT /kv/a [] ").size() - 1),
                    {{http::field::accept_encoding, "zstd"}});
  EXPECT_EQ(r[http::field::content_encoding], "");
  EXPECT_EQ(r.body().size(), 899u);
  auto at = send_request(24503, http::verb::put, "/kv/a", std::string(1000 - std::string("PUT /kv/a [] ").size(), 'x'),
                     {{http::field::accept_encoding, "zstd"}});
  EXPECT_EQ(at[http::field::content_encoding], "zstd");  // exactly the threshold: compressed
}

TEST(HttpServer, with_compression_off_responses_are_never_compressed) {
  HttpServerOptions options;
  options.compress_responses = false;
  ServerFixture server(24504, options);
  const std::string big = document(5000);
  auto r = send_request(24504, http::verb::put, "/kv/a", big, {{http::field::accept_encoding, "zstd, gzip"}});
  EXPECT_EQ(r[http::field::content_encoding], "");
  EXPECT_EQ(r[http::field::vary], "");
  EXPECT_EQ(r.body(), "PUT /kv/a [] " + big);
  // It still takes compressed requests: inflating costs the client nothing to ask.
  auto in = send_request(24504, http::verb::put, "/kv/a", compress(Codec::gzip, big), {{http::field::content_encoding, "gzip"}});
  EXPECT_EQ(in.body(), "PUT /kv/a [] " + big);
}

// --threads 3: the server accepts on the node's thread and serves its connections on two I/O
// threads; each request is handled there and answered from the node's thread, as a node does.
// Under TSan (scripts/sanitizers.sh) it also shows that an answer is written on its connection's
// thread (the sweep, every 10 ms here, reads the connections' state there meanwhile), and, since
// every context runs with Asio's locking off as a node's do, that no thread but its own touches one.
TEST(HttpServer, connections_on_io_threads_get_answers_made_on_the_node_thread) {
  asio::io_context node_io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Mailbox& node_mailbox = Mailbox::of(node_io);  // before its thread runs it
  std::deque<asio::io_context> connection_ios;
  for (int i = 0; i < 2; ++i) connection_ios.emplace_back(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE);
  std::mutex mutex;
  std::set<std::thread::id> handling_threads;
  HttpServerOptions options;
  options.read_timeout_ms = 40;  // the sweep runs every 10 ms; each request arrives in one write
  auto server = std::make_unique<HttpServer>(
      node_io, options,
      [&](HttpRequest&& r, Responder respond) {
        {
          std::lock_guard lock(mutex);
          handling_threads.insert(std::this_thread::get_id());
        }
        node_mailbox.post([respond, path = r.path] { respond(HttpResponse{200, "node saw " + path, "text/plain", {}}); });
      },
      std::vector{&connection_ios[0], &connection_ios[1]});
  ASSERT_TRUE(server->listen(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 24191)).is_ok());
  std::vector<std::thread> threads;  // each context's mailbox (made by now) keeps it running
  threads.emplace_back([&] { node_io.run(); });
  const auto node_thread = threads.back().get_id();
  for (auto& io : connection_ios) threads.emplace_back([&io] { io.run(); });

  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int c = 0; c < 4; ++c) clients.push_back(std::make_unique<HttpClient>("127.0.0.1", 24191, 5000));
  const int rounds = 50;
  for (int round = 0; round < rounds; ++round) {
    for (size_t c = 0; c < clients.size(); ++c) {
      const std::string path = "/c" + std::to_string(c) + "/" + std::to_string(round);
      auto r = clients[c]->request(http::verb::get, path);
      ASSERT_TRUE(r.is_ok()) << r.status().message();
      EXPECT_EQ(r->body, "node saw " + path);
    }
  }
  // Connections that come and go, from two client threads at once: each is accepted on the node's
  // thread, moves to its I/O thread as a bare descriptor, and is closed there.
  const int short_lived = 40;
  std::vector<std::thread> churn;
  for (int t = 0; t < 2; ++t) {
    churn.emplace_back([t] {
      for (int i = 0; i < short_lived / 2; ++i) {
        HttpClient client("127.0.0.1", 24191, 5000);
        const std::string path = "/short/" + std::to_string(t) + "/" + std::to_string(i);
        auto r = client.request(http::verb::get, path);
        EXPECT_TRUE(r.is_ok() && r->body == "node saw " + path) << path;
      }
    });
  }
  for (auto& t : churn) t.join();
  const auto counters = server->counters();
  EXPECT_EQ(counters.connections_accepted, 4u + short_lived);
  EXPECT_EQ(counters.requests, 4u * rounds + short_lived);
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(handling_threads.size(), 2u);  // the connections take turns on the two I/O threads
    EXPECT_FALSE(handling_threads.contains(node_thread));
  }
  node_mailbox.post([&] { node_io.stop(); });
  for (auto& io : connection_ios) Mailbox::of(io).post([&io] { io.stop(); });
  for (auto& t : threads) t.join();
  server.reset();  // once no thread runs its contexts
}

}  // namespace
}  // namespace md::net
