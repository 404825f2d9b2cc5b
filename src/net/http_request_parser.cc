#include "net/http_request_parser.h"

#include <boost/beast/core/string.hpp>

namespace md::net {

namespace http = boost::beast::http;

namespace {

// A field sent twice counts by its first value, as Beast's field container reads it.
void keep_first(std::string& into, bool& seen, boost::beast::string_view value) {
  if (seen) return;
  seen = true;
  into.assign(value.data(), value.size());
}

}  // namespace

RequestParser::RequestParser(uint32_t header_bytes_max, size_t body_bytes_max) {
  header_limit(header_bytes_max);
  body_limit(body_bytes_max);
  eager(true);
}

void RequestParser::on_request_impl(http::verb method, string_view method_string, string_view request_target,
                                    int http_version, error_code&) {
  request.method = method;
  request.method_string.assign(method_string.data(), method_string.size());
  target.assign(request_target.data(), request_target.size());
  version = static_cast<unsigned>(http_version);
}

void RequestParser::on_field_impl(http::field name, string_view, string_view value, error_code&) {
  switch (name) {
    case http::field::content_type: return keep_first(request.content_type, seen_.content_type, value);
    case http::field::authorization: return keep_first(request.authorization, seen_.authorization, value);
    case http::field::content_encoding: return keep_first(content_encoding, seen_.content_encoding, value);
    case http::field::accept_encoding: return keep_first(accept_encoding, seen_.accept_encoding, value);
    case http::field::expect:
      if (!seen_.expect) expect_continue = boost::beast::iequals(value, "100-continue");
      seen_.expect = true;
      return;
    default: return;
  }
}

void RequestParser::on_body_init_impl(const boost::optional<uint64_t>& content_length, error_code&) {
  if (content_length) request.body.reserve(*content_length);  // within the body limit: Beast checked it
}

size_t RequestParser::on_body_impl(string_view body, error_code&) {
  request.body.append(body.data(), body.size());
  return body.size();
}

size_t RequestParser::on_chunk_body_impl(uint64_t, string_view body, error_code&) {
  request.body.append(body.data(), body.size());
  return body.size();
}

}  // namespace md::net
