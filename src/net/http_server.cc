#include "net/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "net/compression.h"
#include "net/tcp_listen.h"

namespace md::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class HttpServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
      : io_(io), acceptor_(io), options_(options), handler_(std::move(handler)) {}

  Status listen(const tcp::endpoint& endpoint) {
    if (auto s = listen_on(acceptor_, endpoint, "HTTP"); !s.is_ok()) return s;
    asio::co_spawn(io_, accept_loop(shared_from_this()), asio::detached);
    return Status::ok();
  }

  void stop() {
    beast::error_code ignored;
    acceptor_.close(ignored);
  }

  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  Counters counters_;

 private:
  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    while (self->acceptor_.is_open()) {
      beast::error_code ec;
      auto socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        spdlog::warn("HTTP accept failed: {}", ec.message());
        continue;
      }
      if (self->counters_.connections_open >= self->options_.connections_max) continue;  // closes the socket
      ++self->counters_.connections_accepted;
      asio::co_spawn(self->io_, session(self, std::move(socket)), asio::detached);
    }
  }

  // Writes `r`, its body compressed with `encoding` when that is not identity and the body is long
  // enough (compress_responses: the caller chose the codec from the request's Accept-Encoding).
  template <class Stream>
  asio::awaitable<void> write(Stream& stream, unsigned version, bool keep_alive, HttpResponse r,
                              Codec encoding = Codec::identity) {
    http::response<http::string_body> response{static_cast<http::status>(r.status), version};
    response.set(http::field::server, "minidynamo");
    response.set(http::field::content_type, r.content_type);
    for (const auto& [name, value] : r.headers) response.set(name, value);
    if (options_.compress_responses) {
      response.set(http::field::vary, "Accept-Encoding");
      if (encoding != Codec::identity && r.body.size() >= options_.compression_min_bytes) {
        r.body = compress(encoding, r.body);
        const std::string_view name = codec_name(encoding);
        response.set(http::field::content_encoding, beast::string_view(name.data(), name.size()));
        ++counters_.compressed_responses;
      }
    }
    response.keep_alive(keep_alive);
    response.body() = std::move(r.body);
    response.prepare_payload();
    beast::error_code ec;  // a client that went away: nothing to do
    co_await http::async_write(stream, response, asio::redirect_error(asio::use_awaitable, ec));
  }

  // An error answer with the JSON error body.
  static HttpResponse error(unsigned status, std::string_view message) {
    return HttpResponse{status, json_error_body(message), "application/json", {}};
  }

  // A connection, in clear text or (options_.tls) in TLS after a handshake bounded by read_timeout_ms.
  static asio::awaitable<void> session(std::shared_ptr<Impl> self, tcp::socket socket) {
    ++self->counters_.connections_open;
    if (!self->options_.tls) {
      beast::tcp_stream stream(std::move(socket));
      co_await serve(self, stream, Security{});
      beast::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } else {
      beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *self->options_.tls());
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(self->options_.read_timeout_ms));
      beast::error_code ec;
      co_await stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        ++self->counters_.tls_handshakes_failed;
        spdlog::debug("TLS handshake with a client failed: {}", ec.message());
      } else {
        co_await serve(self, stream, Security{true, peer_certificate_verified(stream.native_handle())});
        beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(self->options_.read_timeout_ms));
        co_await stream.async_shutdown(asio::redirect_error(asio::use_awaitable, ec));
      }
    }
    --self->counters_.connections_open;
  }

  // How a connection is secured, as its requests tell the handler.
  struct Security {
    bool tls = false;
    bool peer_certificate_verified = false;
  };

  // Reads requests and writes their answers, in order, until the connection ends.
  template <class Stream>
  static asio::awaitable<void> serve(std::shared_ptr<Impl> self, Stream& stream, Security security) {
    beast::flat_buffer buffer;
    const auto& o = self->options_;
    auto& tcp_layer = beast::get_lowest_layer(stream);
    beast::error_code peer_ec;
    const auto peer = tcp_layer.socket().remote_endpoint(peer_ec);
    const std::string client_address = peer_ec ? std::string() : peer.address().to_string();
    while (true) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(o.header_bytes_max);
      parser.body_limit(o.body_bytes_max);
      tcp_layer.expires_after(std::chrono::milliseconds(o.idle_timeout_ms));
      beast::error_code ec;
      co_await http::async_read_header(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
          ec == asio::error::eof || ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated) {
        break;
      }
      const unsigned version = parser.get().version() ? parser.get().version() : 11;
      if (ec == http::error::body_limit) {  // Beast checks Content-Length against the limit with the headers
        ++self->counters_.too_large;
        co_await self->write(stream, version, false,
                       error(413, "the body is over the limit of " + std::to_string(o.body_bytes_max) + " bytes"));
        break;
      }
      if (ec) {
        ++self->counters_.bad_requests;
        co_await self->write(stream, 11, false, error(400, "malformed HTTP request: " + ec.message()));
        break;
      }
      auto length = parser.content_length();
      if (length && *length > o.body_bytes_max) {
        ++self->counters_.too_large;
        co_await self->write(stream, version, false,
                       error(413, "the body is " + std::to_string(*length) + " bytes; the limit is " +
                                      std::to_string(o.body_bytes_max)));
        break;
      }
      if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
        http::response<http::empty_body> go_on{http::status::continue_, version};
        co_await http::async_write(stream, go_on, asio::redirect_error(asio::use_awaitable, ec));
      }
      tcp_layer.expires_after(std::chrono::milliseconds(o.read_timeout_ms));
      beast::error_code body_ec;
      if (!parser.is_done()) {  // a request without a body is complete after its headers
        co_await http::async_read(stream, buffer, parser, asio::redirect_error(asio::use_awaitable, body_ec));
      }
      if (body_ec == http::error::body_limit) {
        ++self->counters_.too_large;
        co_await self->write(stream, version, false, error(413, "the body is over the limit of " + std::to_string(o.body_bytes_max) + " bytes"));
        break;
      }
      if (body_ec) {
        if (body_ec != beast::error::timeout && body_ec != http::error::end_of_stream) {
          ++self->counters_.bad_requests;
          co_await self->write(stream, version, false, error(400, "malformed HTTP request: " + body_ec.message()));
        }
        break;
      }
      auto request = parser.release();
      bool keep_alive = request.keep_alive();
      const auto accept = request[http::field::accept_encoding];
      const Codec encoding =
          o.compress_responses ? choose_response_codec(std::string_view(accept.data(), accept.size())) : Codec::identity;
      tcp_layer.expires_never();
      ++self->counters_.requests;
      ++self->counters_.requests_in_flight;
      auto response = co_await self->dispatch(std::move(request), security, client_address);
      co_await self->write(stream, version, keep_alive, std::move(response), encoding);
      --self->counters_.requests_in_flight;
      if (!keep_alive) break;
    }
  }

  // Builds the handler's request and waits for its (possibly later) answer.
  asio::awaitable<HttpResponse> dispatch(http::request<http::string_body> raw, Security security,
                                         std::string client_address) {
    HttpRequest request;
    request.over_tls = security.tls;
    request.peer_certificate_verified = security.peer_certificate_verified;
    request.method = raw.method();
    request.method_string = std::string(raw.method_string());
    request.content_type = std::string(raw[http::field::content_type]);
    request.authorization = std::string(raw[http::field::authorization]);
    request.client_address = std::move(client_address);
    if (auto s = decode_target(std::string_view(raw.target().data(), raw.target().size()), request); !s.is_ok()) {
      ++counters_.bad_requests;
      co_return error(400, s.message());
    }
    const std::string_view coding(raw[http::field::content_encoding].data(), raw[http::field::content_encoding].size());
    const std::optional<Codec> codec = parse_content_encoding(coding);
    if (!codec) {
      ++counters_.bad_requests;
      co_return error(415, "Content-Encoding '" + std::string(coding) + "' is not supported; send gzip, zstd or identity");
    }
    if (*codec == Codec::identity) {
      request.body = std::move(raw.body());
    } else {
      auto inflated = decompress(*codec, raw.body(), options_.body_bytes_max);
      if (!inflated.is_ok()) {
        if (inflated.status().code() == Code::too_large) {
          ++counters_.too_large;
          co_return error(413, "the body inflates past the limit of " + std::to_string(options_.body_bytes_max) + " bytes");
        }
        ++counters_.bad_requests;
        co_return error(400, "the body is not valid " + std::string(codec_name(*codec)) + " data: " + inflated.status().message());
      }
      ++counters_.compressed_requests;
      request.body = std::move(inflated).value();
    }

    // The handler may answer at once or later; a timer that never fires is the wake-up call.
    struct Pending {
      explicit Pending(asio::io_context& io) : wake(io, asio::steady_timer::time_point::max()) {}
      asio::steady_timer wake;
      std::optional<HttpResponse> response;
    };
    auto pending = std::make_shared<Pending>(io_);
    try {
      handler_(std::move(request), [pending](HttpResponse r) {
        pending->response = std::move(r);
        pending->wake.cancel();
      });
    } catch (const std::exception& e) {
      spdlog::error("HTTP handler failed: {}", e.what());
      co_return error(500, std::string("internal error: ") + e.what());
    }
    beast::error_code ignored;  // cancelled is the point
    if (!pending->response) co_await pending->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!pending->response) co_return error(503, "the node is shutting down");
    co_return std::move(*pending->response);
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  HttpServerOptions options_;
  HttpHandler handler_;
};

HttpServer::HttpServer(asio::io_context& io, HttpServerOptions options, HttpHandler handler)
    : impl_(std::make_shared<Impl>(io, options, std::move(handler))) {}
HttpServer::~HttpServer() { impl_->stop(); }
Status HttpServer::listen(const tcp::endpoint& endpoint) { return impl_->listen(endpoint); }
uint16_t HttpServer::port() const { return impl_->port(); }
void HttpServer::stop() { impl_->stop(); }
HttpServer::Counters HttpServer::counters() const { return impl_->counters_; }

}  // namespace md::net
