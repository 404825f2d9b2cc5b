// A request as the API sees it after HTTP: the first byte picks the method, the bytes up to the
// first newline are the target (path and query: N, R, W, sloppy, context), the rest is the JSON
// body. A key operation that parses is then checked the way the core checks it (the quorum, the
// context token), and its value must be compact JSON that parses back.
#include <rapidjson/document.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/context_token.h"
#include "core/quorum.h"
#include "net/http_api.h"
#include "net/http_server.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  constexpr http::verb kMethods[] = {http::verb::get, http::verb::put, http::verb::post, http::verb::delete_,
                                     http::verb::head};
  md::net::HttpRequest request;
  request.method = kMethods[data[0] % std::size(kMethods)];
  request.method_string = std::string(http::to_string(request.method));
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto newline = input.find('\n');
  std::string_view target = input.substr(0, newline);
  if (!md::net::decode_target(target, request).is_ok()) return 0;
  if (newline != std::string_view::npos) request.body = std::string(input.substr(newline + 1));

  auto call = md::net::parse_api_request(request, md::net::ApiLimits{});
  if (auto* r = std::get_if<md::core::ClientRequest>(&call)) {
    // Exercised as the core does; either may refuse with a status, which is all it may do.
    (void)md::core::resolve_quorum(r->n, r->r, r->w, md::core::Quorum{}, 5);
    if (r->context_token) (void)md::core::decode_context_token(*r->context_token);
    if (r->op == md::core::Op::put) {
      rapidjson::Document value;
      value.Parse(r->value.data(), r->value.size());
      assert(!value.HasParseError());
    }
  }
  return 0;
}
