#include "net/http_client.h"

#include <boost/asio.hpp>
#include <boost/beast/http.hpp>

#include <chrono>

namespace md::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

HttpClient::HttpClient(std::string host, uint16_t port, uint32_t timeout_ms)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

Result<HttpResponse> HttpClient::request(http::verb verb, std::string_view target, std::string_view body,
                                         std::string_view content_type) {
  bool reused = stream_.has_value();
  auto result = attempt(verb, target, body, content_type);
  // A kept-alive connection the server closed meanwhile fails at once: try one fresh connection.
  // Not after a timeout: the server may have taken the request, and a write sent twice is two writes.
  if (!result.is_ok() && reused && !timed_out_) result = attempt(verb, target, body, content_type);
  return result;
}

Result<HttpResponse> HttpClient::attempt(http::verb verb, std::string_view target, std::string_view body,
                                         std::string_view content_type) {
  auto where = host_ + ":" + std::to_string(port_);
  beast::error_code ec;
  http::response<http::string_body> response;
  auto run = [&](auto&& start) {
    // Async operations on a private io_context, so the whole exchange honours one deadline.
    stream_->expires_after(std::chrono::milliseconds(timeout_ms_));
    bool done = false;
    start([&](beast::error_code e, auto&&...) {
      ec = e;
      done = true;
    });
    io_.restart();
    io_.run();
    if (!done) ec = beast::error::timeout;
    timed_out_ = ec == beast::error::timeout;
  };
  if (!stream_) {
    stream_.emplace(io_);
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) {
      stream_.reset();
      return Status::unavailable("cannot resolve " + where + ": " + ec.message());
    }
    run([&](auto handler) { stream_->async_connect(endpoints, handler); });
    if (ec) {
      stream_.reset();
      return Status::unavailable("cannot connect to " + where + ": " + ec.message());
    }
  }
  http::request<http::string_body> request{verb, std::string(target), 11};
  request.set(http::field::host, host_);
  request.keep_alive(true);
  if (!body.empty()) {
    request.set(http::field::content_type, std::string(content_type));
    request.body() = std::string(body);
  }
  request.prepare_payload();
  run([&](auto handler) { http::async_write(*stream_, request, handler); });
  if (!ec) run([&](auto handler) { http::async_read(*stream_, buffer_, response, handler); });
  if (ec) {
    stream_.reset();
    buffer_.clear();
    return Status::unavailable("request to " + where + " failed: " + ec.message());
  }
  if (!response.keep_alive()) stream_.reset();
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
