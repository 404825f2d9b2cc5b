// Raw bytes from a client socket: Beast's request parser with the server's limits, then the
// server's target decoding and the API's routing and parameter parsing, as a request would go.
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/http.hpp>

#include <cstddef>
#include <cstdint>

#include "net/http_api.h"
#include "net/http_server.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const md::net::HttpServerOptions options;
  http::request_parser<http::string_body> parser;
  parser.header_limit(options.header_bytes_max);
  parser.body_limit(options.body_bytes_max);
  parser.eager(true);
  boost::beast::error_code ec;
  boost::asio::const_buffer rest(data, size);
  while (rest.size() > 0 && !parser.is_done()) {
    size_t used = parser.put(rest, ec);
    if (ec == http::error::need_more) break;
    if (ec) return 0;  // the server answers 400 or 413 and closes
    rest += used;
  }
  if (!parser.is_done()) {  // the client closed its side: Beast's end-of-stream rules decide
    if (!parser.got_some()) return 0;
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  auto raw = parser.release();
  md::net::HttpRequest request;
  request.method = raw.method();
  request.method_string = std::string(raw.method_string());
  request.content_type = std::string(raw[http::field::content_type]);
  if (!md::net::decode_target(std::string_view(raw.target().data(), raw.target().size()), request).is_ok()) return 0;
  request.body = std::move(raw.body());
  md::net::parse_api_request(request, md::net::ApiLimits{});
  return 0;
}
