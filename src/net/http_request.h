// A client's HTTP request and our answer, as the API sees them, and the pure steps between the
// bytes Beast parsed and those shapes: the target's path and query, percent-decoded, and the JSON
// error body. No sockets here: the fuzz targets (fuzz/) run these without a server.
#pragma once

#include <ostream>  // before Beast's verb.hpp, which uses std::ostream without including it

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace md::net {

struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string method_string;  // as sent, for messages
  std::string path;           // percent-decoded, without the query
  std::vector<std::pair<std::string, std::string>> query;  // percent-decoded, in order
  std::string body;
  std::string content_type;
  std::string authorization;   // the Authorization header's value, if any (security/credentials.h reads it)
  std::string client_address;  // the client's IP address
  // How the connection it came on is secured (the server says; the join route asks for a node's certificate).
  bool over_tls = false;
  bool peer_certificate_verified = false;  // over TLS, with a client certificate the CA signed
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  // sent besides Content-Type (e.g. CORS)
};

// {"status":"error","error":"<message>"} with the message escaped as a JSON string.
std::string json_error_body(std::string_view message);

// Fills request.path and request.query from a request target ("/kv/a%20b?W=2&sloppy=true"), both
// percent-decoded; a malformed %-escape is an error that says whether the path or the query has it.
Status decode_target(std::string_view target, HttpRequest& request);

// Percent-decoding of a path or query component (`plus_is_space` for queries); nullopt when malformed.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

}  // namespace md::net
