// A small synchronous HTTP/1.1 client with keep-alive, for the command-line verbs and tools, in
// clear text or TLS (net/tls.h: it verifies the server's certificate against the CA, and the name
// it connects to against the certificate).
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <optional>
#include <string>

#include "core/status.h"
#include "net/http_server.h"

namespace md::net {

class HttpClient {
 public:
  // `tls` set: every connection is TLS with that client context (make_client_context).
  HttpClient(std::string host, uint16_t port, uint32_t timeout_ms, std::shared_ptr<TlsContext> tls = nullptr);
  // One request on the kept-alive connection (reconnecting once if the server had closed it; a
  // request that timed out is not sent again).
  // Errors (refused, timed out) are Code::unavailable and name host:port.
  Result<HttpResponse> request(boost::beast::http::verb verb, std::string_view target, std::string_view body = {},
                               std::string_view content_type = "application/json");
  // Sent as the Authorization header of every request from now on (security/credentials.h).
  void set_authorization(std::string header) { authorization_ = std::move(header); }

 private:
  Result<HttpResponse> attempt(boost::beast::http::verb verb, std::string_view target, std::string_view body,
                               std::string_view content_type);
  template <class Stream>
  Result<HttpResponse> exchange(Stream& stream, boost::beast::http::verb verb, std::string_view target,
                                std::string_view body, std::string_view content_type);
  // Runs one asynchronous step on the private io_context under the client's deadline.
  template <class Start>
  boost::system::error_code run(boost::beast::tcp_stream& deadline, Start&& start);
  void disconnect();
  std::string host_;
  uint16_t port_;
  uint32_t timeout_ms_;
  boost::asio::io_context io_;
  std::shared_ptr<TlsContext> tls_;
  std::optional<boost::beast::tcp_stream> stream_;                                  // clear text
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> tls_stream_;  // or TLS
  boost::beast::flat_buffer buffer_;
  bool timed_out_ = false;  // the last exchange ran out of time
  std::string authorization_;
};

// Percent-encodes text (a key, a prefix) for use as one path segment or query value of a URL:
// everything but the unreserved characters.
std::string url_encode_path_segment(std::string_view text);

}  // namespace md::net
