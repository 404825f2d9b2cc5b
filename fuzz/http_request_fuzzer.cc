// Raw bytes from a client socket: the server's request parser (net/http_request_parser.h) with the
// server's limits, then the server's target decoding and the API's routing and parameter parsing, as
// a request would go. Pipelined requests are parsed one after another from the same bytes.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "net/http_api.h"
#include "net/http_request_parser.h"
#include "net/http_server.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const md::net::HttpServerOptions options;
  boost::asio::const_buffer rest(data, size);
  while (rest.size() > 0) {
    md::net::RequestParser parser(options.header_bytes_max, options.body_bytes_max);
    boost::beast::error_code ec;
    while (rest.size() > 0 && !parser.is_done()) {
      const size_t used = parser.put(rest, ec);
      rest += used;
      if (ec) break;
    }
    if (ec || !parser.is_done()) return 0;  // 400 or 413 and the connection closes, or the client left mid-request
    md::net::HttpRequest request = std::move(parser.request);
    if (!md::net::decode_target(parser.target, request).is_ok()) continue;  // answered 400; the connection goes on
    md::net::parse_api_request(request, md::net::ApiLimits{});
  }
  return 0;
}
