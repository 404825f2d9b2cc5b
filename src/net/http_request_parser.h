// One HTTP/1.1 request, parsed in place from a connection's receive buffer. Beast's parser finds
// the request line, the fields and the body's framing (length or chunks) and enforces the header
// and body limits; this keeps only the fields the server and the API read, straight into the
// request it builds, and the body into the request's own string: no field container, no
// allocation per field. The HTTP server (net/http_server.h) and the fuzz target run it alike.
#pragma once

#include <ostream>  // before Beast, whose headers use std::ostream without including it

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>
#include <string>

#include "net/http_request.h"

namespace md::net {

class RequestParser final : public boost::beast::http::basic_parser<true> {
 public:
  // Feed it with put(); it parses the body in the same pass as the header when it has arrived.
  RequestParser(uint32_t header_bytes_max, size_t body_bytes_max);

  HttpRequest request;  // method, content type, authorization and body; the target is decoded later
  std::string target;   // as sent
  std::string content_encoding, accept_encoding;
  bool expect_continue = false;  // `Expect: 100-continue`
  unsigned version = 11;         // 10 or 11

 private:
  using string_view = boost::beast::string_view;
  using error_code = boost::beast::error_code;
  void on_request_impl(boost::beast::http::verb method, string_view method_string, string_view request_target,
                       int http_version, error_code&) override;
  void on_response_impl(int, string_view, int, error_code&) override {}
  void on_field_impl(boost::beast::http::field name, string_view, string_view value, error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<uint64_t>& content_length, error_code&) override;
  size_t on_body_impl(string_view body, error_code&) override;
  void on_chunk_header_impl(uint64_t, string_view, error_code&) override {}
  size_t on_chunk_body_impl(uint64_t, string_view body, error_code&) override;
  void on_finish_impl(error_code&) override {}

  struct Seen {
    bool content_type = false, authorization = false, content_encoding = false, accept_encoding = false, expect = false;
  } seen_;
};

}  // namespace md::net
