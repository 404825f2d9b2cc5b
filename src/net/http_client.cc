#include "net/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>

#include <chrono>

namespace md::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpClient::HttpClient(std::string host, uint16_t port, uint32_t timeout_ms, std::shared_ptr<TlsContext> tls)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms), tls_(std::move(tls)) {}

Result<HttpResponse> HttpClient::request(http::verb verb, std::string_view target, std::string_view body,
                                         std::string_view content_type) {
  bool reused = stream_.has_value() || tls_stream_.has_value();
  auto result = attempt(verb, target, body, content_type);
  // A kept-alive connection the server closed meanwhile fails at once: try one fresh connection.
  // Not after a timeout: the server may have taken the request, and a write sent twice is two writes.
  if (!result.is_ok() && reused && !timed_out_) result = attempt(verb, target, body, content_type);
  return result;
}

void HttpClient::disconnect() {
  stream_.reset();
  tls_stream_.reset();
  buffer_.clear();
}

template <class Start>
beast::error_code HttpClient::run(beast::tcp_stream& deadline, Start&& start) {
  // Async operations on a private io_context, so each step honours the deadline.
  deadline.expires_after(std::chrono::milliseconds(timeout_ms_));
  beast::error_code ec;
  bool done = false;
  start([&](beast::error_code e, auto&&...) {
    ec = e;
    done = true;
  });
  io_.restart();
  io_.run();
  if (!done) ec = beast::error::timeout;
  timed_out_ = ec == beast::error::timeout;
  return ec;
}

Result<HttpResponse> HttpClient::attempt(http::verb verb, std::string_view target, std::string_view body,
                                         std::string_view content_type) {
  const auto where = host_ + ":" + std::to_string(port_);
  if (!stream_ && !tls_stream_) {
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) return Status::unavailable("cannot resolve " + where + ": " + ec.message());
    beast::tcp_stream connection(io_);
    ec = run(connection, [&](auto handler) { connection.async_connect(endpoints, handler); });
    if (ec) return Status::unavailable("cannot connect to " + where + ": " + ec.message());
    if (!tls_) {
      stream_.emplace(std::move(connection));
    } else {
      tls_stream_.emplace(std::move(connection), *tls_);
      SSL_set_tlsext_host_name(tls_stream_->native_handle(), host_.c_str());  // SNI
      tls_stream_->set_verify_callback(asio::ssl::host_name_verification(host_));
      ec = run(beast::get_lowest_layer(*tls_stream_),
               [&](auto handler) { tls_stream_->async_handshake(asio::ssl::stream_base::client, handler); });
      if (ec) {
        disconnect();
        return Status::unavailable("the TLS handshake with " + where + " failed: " + ec.message());
      }
    }
  }
  return stream_ ? exchange(*stream_, verb, target, body, content_type)
                 : exchange(*tls_stream_, verb, target, body, content_type);
}

template <class Stream>
Result<HttpResponse> HttpClient::exchange(Stream& stream, http::verb verb, std::string_view target,
                                          std::string_view body, std::string_view content_type) {
  http::request<http::string_body> request{verb, std::string(target), 11};
  request.set(http::field::host, host_);
  if (!authorization_.empty()) request.set(http::field::authorization, authorization_);
  request.keep_alive(true);
  if (!body.empty()) {
    request.set(http::field::content_type, std::string(content_type));
    request.body() = std::string(body);
  }
  request.prepare_payload();
  http::response<http::string_body> response;
  auto& deadline = beast::get_lowest_layer(stream);
  auto ec = run(deadline, [&](auto handler) { http::async_write(stream, request, handler); });
  if (!ec) ec = run(deadline, [&](auto handler) { http::async_read(stream, buffer_, response, handler); });
  if (ec) {
    disconnect();
    return Status::unavailable("request to " + host_ + ":" + std::to_string(port_) + " failed: " + ec.message());
  }
  if (!response.keep_alive()) disconnect();
  return HttpResponse{response.result_int(), std::move(response.body()),
                      std::string(response[http::field::content_type]), {}};
}

std::string url_encode_path_segment(std::string_view text) {
  static const char* digits = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(digits[c >> 4]);
      out.push_back(digits[c & 15]);
    }
  }
  return out;
}

}  // namespace md::net
