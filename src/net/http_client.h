// A small synchronous HTTP/1.1 client with keep-alive, for the command-line verbs and tools.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>

#include "core/status.h"
#include "net/http_server.h"

namespace md::net {

class HttpClient {
 public:
  HttpClient(std::string host, uint16_t port, uint32_t timeout_ms);
  // One request on the kept-alive connection (reconnecting once if the server had closed it; a
  // request that timed out is not sent again).
  // Errors (refused, timed out) are Code::unavailable and name host:port.
  Result<HttpResponse> request(boost::beast::http::verb verb, std::string_view target, std::string_view body = {},
                               std::string_view content_type = "application/json");

 private:
  Result<HttpResponse> attempt(boost::beast::http::verb verb, std::string_view target, std::string_view body,
                               std::string_view content_type);
  std::string host_;
  uint16_t port_;
  uint32_t timeout_ms_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  bool timed_out_ = false;  // the last exchange ran out of time
};

// Percent-encodes text (a key, a prefix) for use as one path segment or query value of a URL:
// everything but the unreserved characters.
std::string url_encode_path_segment(std::string_view text);

}  // namespace md::net
