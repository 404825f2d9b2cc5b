#include "net/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstring>

#include "net/compression.h"
#include "net/connection_set.h"
#include "net/http_request_parser.h"
#include "net/tcp_listen.h"
#include "net/tls_stream.h"

namespace md::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// An error answer with the JSON error body.
HttpResponse error(unsigned status, std::string_view message) {
  return HttpResponse{status, json_error_body(message), "application/json", {}};
}

}  // namespace

class HttpServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  class Connection;

  Impl(asio::io_context& io, const std::vector<asio::io_context*>& contexts, HttpServerOptions options,
       HttpHandler handler)
      : acceptor_(io),
        connections_(contexts.empty() ? std::vector{&io} : contexts),
        options_(std::move(options)),
        handler_(std::move(handler)) {}

  Status listen(const tcp::endpoint& endpoint);

  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  // Closes every connection (the server is going away with its io_context).
  void close_all();

  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  // Counters, as every thread that serves connections counts them.
  struct LiveCounters {
    std::atomic<uint64_t> requests = 0, bad_requests = 0, too_large = 0, connections_accepted = 0,
                          connections_open = 0, compressed_requests = 0, compressed_responses = 0,
                          requests_in_flight = 0, tls_handshakes_failed = 0;
    Counters snapshot() const {
      return Counters{requests,           bad_requests,        too_large,          connections_accepted,
                      connections_open,   compressed_requests, compressed_responses, requests_in_flight,
                      tls_handshakes_failed};
    }
  };
  LiveCounters counters_;

 private:
  friend class Connection;

  tcp::acceptor acceptor_;
  ConnectionSet<Connection> connections_;
  HttpServerOptions options_;
  HttpHandler handler_;
};

// A connection: reads into one buffer, parses each request in place, hands it to the handler and
// writes its answer (head and body in one gather write) before it parses the next one, so answers
// go out in request order and a pipelined request waiting in the buffer costs no read. Reads and
// writes never overlap. Its timeouts are checked by the server's sweep (net/connection_set.h).
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Impl> server, tcp::socket socket, std::shared_ptr<TlsContext> tls, Mailbox& mailbox)
      : server_(std::move(server)), stream_(std::move(socket), std::move(tls)), mailbox_(mailbox), in_(kReadBytes) {
    boost::system::error_code ec;
    if (auto peer = stream_.socket().remote_endpoint(ec); !ec) client_address_ = peer.address().to_string();
    stream_.socket().set_option(tcp::no_delay(true), ec);  // an answer is written whole, in one call
  }

  void start() {
    if (!stream_.is_tls()) return read();
    partial_since_ = Clock::now();  // the sweep gives the handshake read_timeout_ms, as a half-sent request
    stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
      if (self->closed_) return;
      if (ec) {
        ++self->server_->counters_.tls_handshakes_failed;
        spdlog::debug("TLS handshake with a client failed: {}", ec.message());
        return self->close();
      }
      self->peer_certificate_verified_ = peer_certificate_verified(self->stream_.native_handle());
      self->partial_since_.reset();
      self->last_activity_ = Clock::now();
      self->read();
    });
  }

  // The sweep: closes a connection past one of its timeouts. A request being handled has none.
  void check(Clock::time_point now) {
    if (closed_) return;
    const auto& o = server_->options_;
    auto over = [&](Clock::time_point since, uint32_t ms) { return now - since > std::chrono::milliseconds(ms); };
    const bool idle = !in_flight_ && !writing_ && !partial_since_;
    if ((partial_since_ && over(*partial_since_, o.read_timeout_ms)) ||
        (writing_ && over(write_since_, o.idle_timeout_ms)) || (idle && over(last_activity_, o.idle_timeout_ms))) {
      close();
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    --server_->counters_.connections_open;
    server_->connections_.erase(shared_from_this());
  }

 private:
  void read() {
    if (closed_ || closing_) return;
    make_room();
    stream_.async_read_some(asio::buffer(in_.data() + in_end_, in_.size() - in_end_),
                            [self = shared_from_this()](boost::system::error_code ec, size_t n) {
                              if (self->closed_) return;
                              self->last_activity_ = Clock::now();
                              // The client went away or closed its side: a request it cut short is dropped.
                              if (ec) return self->close();
                              self->in_end_ += n;
                              self->process();
                            });
  }

  // Room for a read after the unparsed bytes: moved to the front, the buffer doubled only when a
  // request's header is longer than it (the header limit bounds it; a body is consumed as it comes).
  void make_room() {
    if (in_begin_ == in_end_) in_begin_ = in_end_ = 0;
    if (in_.size() - in_end_ >= kReadBytes / 4) return;
    std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
    in_end_ -= in_begin_;
    in_begin_ = 0;
    if (in_.size() - in_end_ < kReadBytes / 4) in_.resize(in_.size() * 2);
  }

  // Parses what is buffered; starts the request once it is whole, or reads more.
  void process() {
    const auto& o = server_->options_;
    while (in_begin_ < in_end_) {
      if (!parser_) {
        parser_.emplace(o.header_bytes_max, o.body_bytes_max);
        partial_since_ = Clock::now();
      }
      beast::error_code ec;
      in_begin_ += parser_->put(asio::const_buffer(in_.data() + in_begin_, in_end_ - in_begin_), ec);
      if (ec == http::error::need_more) break;
      if (ec == http::error::body_limit) {  // from Content-Length with the header, or as chunks cross it
        ++server_->counters_.too_large;
        return refuse(413, "the body is over the limit of " + std::to_string(o.body_bytes_max) + " bytes");
      }
      if (ec) {
        ++server_->counters_.bad_requests;
        return refuse(400, "malformed HTTP request: " + ec.message());
      }
      if (parser_->is_done()) return dispatch();
      if (parser_->expect_continue && !continue_sent_) {  // the client waits for this before the body
        continue_sent_ = true;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        return write(std::string(kContinue), {}, Then::go_on);
      }
    }
    read();
  }

  // Answers a request that cannot be parsed on, then closes: what follows it cannot be framed.
  void refuse(unsigned status, std::string_view message) {
    const unsigned version = parser_ && parser_->is_header_done() ? parser_->version : 11;
    parser_.reset();
    partial_since_.reset();
    closing_ = true;
    respond(error(status, message), version, false, Codec::identity, Then::close);
  }

  // Builds the handler's request from the parsed one and hands it over; its answer comes now or later.
  void dispatch() {
    RequestParser& parsed = *parser_;
    const unsigned version = parsed.version ? parsed.version : 11;
    const bool keep_alive = parsed.keep_alive();
    const auto& o = server_->options_;
    const Codec encoding = o.compress_responses ? choose_response_codec(parsed.accept_encoding) : Codec::identity;
    HttpRequest request = std::move(parsed.request);
    request.over_tls = stream_.is_tls();
    request.peer_certificate_verified = peer_certificate_verified_;
    request.client_address = client_address_;
    const Status target = decode_target(parsed.target, request);
    const std::string coding = std::move(parsed.content_encoding);
    parser_.reset();
    partial_since_.reset();
    continue_sent_ = false;
    ++server_->counters_.requests;
    ++server_->counters_.requests_in_flight;
    in_flight_ = true;
    const uint64_t id = ++request_id_;
    auto answer = [this, version, keep_alive, encoding](HttpResponse r) {
      respond(std::move(r), version, keep_alive, encoding, keep_alive ? Then::next_request : Then::close);
    };
    if (!target.is_ok()) {
      ++server_->counters_.bad_requests;
      return answer(error(400, target.message()));
    }
    const std::optional<Codec> codec = parse_content_encoding(coding);
    if (!codec) {
      ++server_->counters_.bad_requests;
      return answer(error(415, "Content-Encoding '" + coding + "' is not supported; send gzip, zstd or identity"));
    }
    if (*codec != Codec::identity) {
      auto inflated = decompress(*codec, request.body, o.body_bytes_max);
      if (!inflated.is_ok()) {
        if (inflated.status().code() == Code::too_large) {
          ++server_->counters_.too_large;
          return answer(error(413, "the body inflates past the limit of " + std::to_string(o.body_bytes_max) + " bytes"));
        }
        ++server_->counters_.bad_requests;
        return answer(error(400, "the body is not valid " + std::string(codec_name(*codec)) + " data: " +
                                     inflated.status().message()));
      }
      ++server_->counters_.compressed_requests;
      request.body = std::move(inflated).value();
    }
    try {
      // The answer may come on another thread (the node's): it is written on this connection's.
      auto self = mailbox_.released_here(shared_from_this());  // the node's thread never lets it go
      server_->handler_(std::move(request), [self, id, answer](HttpResponse r) {
        self->mailbox_.dispatch([self, id, answer, r = std::move(r)]() mutable {
          if (self->answered_ < id) answer(std::move(r));
        });
      });
    } catch (const std::exception& e) {
      spdlog::error("HTTP handler failed: {}", e.what());
      if (answered_ < id) answer(error(500, std::string("internal error: ") + e.what()));
    }
  }

  // After a write: the request being received goes on (a 100 Continue), or the next one starts, or
  // the connection closes.
  enum class Then { go_on, next_request, close };

  // Writes an answer: the head made here and the body (compressed when the request accepts
  // `encoding` and the body is long enough) in one gather write.
  void respond(HttpResponse r, unsigned version, bool keep_alive, Codec encoding, Then then) {
    answered_ = request_id_;
    const auto& o = server_->options_;
    std::string head;
    head.reserve(160 + r.content_type.size());
    head += version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head += std::to_string(r.status);
    head += ' ';
    const auto reason = http::obsolete_reason(http::int_to_status(r.status));
    head.append(reason.data(), reason.size());
    head += "\r\nServer: minidynamo\r\nContent-Type: ";
    head += r.content_type;
    head += "\r\n";
    for (const auto& [name, value] : r.headers) head.append(name).append(": ").append(value).append("\r\n");
    if (o.compress_responses) {
      head += "Vary: Accept-Encoding\r\n";
      if (encoding != Codec::identity && r.body.size() >= o.compression_min_bytes) {
        r.body = compress(encoding, r.body);
        head += "Content-Encoding: ";
        head += codec_name(encoding);
        head += "\r\n";
        ++server_->counters_.compressed_responses;
      }
    }
    if (version == 10 && keep_alive) head += "Connection: keep-alive\r\n";
    if (version != 10 && !keep_alive) head += "Connection: close\r\n";
    head += "Content-Length: ";
    head += std::to_string(r.body.size());
    head += "\r\n\r\n";
    write(std::move(head), std::move(r.body), then);
  }

  void write(std::string head, std::string body, Then then) {
    writing_ = true;
    write_since_ = Clock::now();
    out_head_ = std::move(head);
    out_body_ = std::move(body);
    const std::array<asio::const_buffer, 2> buffers{asio::buffer(out_head_), asio::buffer(out_body_)};
    asio::async_write(stream_, buffers, [self = shared_from_this(), then](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      if (then != Then::go_on && self->in_flight_) {
        self->in_flight_ = false;
        --self->server_->counters_.requests_in_flight;
      }
      if (self->closed_) return;
      if (ec) return self->close();
      self->last_activity_ = Clock::now();
      if (then == Then::close) return self->finish();
      self->process();  // what is buffered already: the body, or a pipelined request
    });
  }

  // Closes after the last answer: TLS says so first (close_notify), within the read timeout.
  void finish() {
    if (!stream_.is_tls()) return close();
    closing_ = true;
    partial_since_ = Clock::now();
    stream_.async_shutdown([self = shared_from_this()](boost::system::error_code) { self->close(); });
  }

  static constexpr size_t kReadBytes = 16 << 10;

  std::shared_ptr<Impl> server_;
  PlainOrTlsStream stream_;
  Mailbox& mailbox_;  // its context's: answers made on other threads come back through it
  std::string client_address_;
  bool peer_certificate_verified_ = false;
  std::vector<char> in_;              // received bytes; unparsed from in_begin_ to in_end_
  size_t in_begin_ = 0, in_end_ = 0;
  std::optional<RequestParser> parser_;  // the request being received
  bool continue_sent_ = false;           // 100 Continue, for the request being received
  bool in_flight_ = false;               // handed to the handler, its answer not yet written whole
  uint64_t request_id_ = 0, answered_ = 0;  // the last request handed over, the last one answered
  std::string out_head_, out_body_;          // the answer being written
  bool writing_ = false;
  bool closing_ = false;  // read no more: the connection closes once its answer is written
  bool closed_ = false;
  Clock::time_point last_activity_ = Clock::now(), write_since_;
  std::optional<Clock::time_point> partial_since_;  // a request (or the handshake) has been arriving since then
};

Status HttpServer::Impl::listen(const tcp::endpoint& endpoint) {
  if (auto s = listen_on(acceptor_, endpoint, "HTTP"); !s.is_ok()) return s;
  auto self = shared_from_this();
  connections_.accept(acceptor_, "HTTP", options_.connections_max, counters_, self, [self] {
    return [self, tls = self->options_.tls ? self->options_.tls() : nullptr](tcp::socket socket, Mailbox& mailbox) {
      return std::make_shared<Connection>(self, std::move(socket), tls, mailbox);
    };
  });
  connections_.sweep(std::min(options_.idle_timeout_ms, options_.read_timeout_ms), self);
  return Status::ok();
}

void HttpServer::Impl::close_all() {
  stop();
  connections_.close_all();
}

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler,
                       const std::vector<asio::io_context*>& connection_contexts)
    : impl_(std::make_shared<Impl>(io, connection_contexts, std::move(options), std::move(handler))) {}
HttpServer::~HttpServer() { impl_->close_all(); }
Status HttpServer::listen(const tcp::endpoint& endpoint) { return impl_->listen(endpoint); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::stop() { impl_->stop(); }
HttpServer::Counters HttpServer::counters() const { return impl_->counters_.snapshot(); }

}  // namespace md::net
