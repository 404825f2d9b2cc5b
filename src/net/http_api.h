// The client HTTP API's shapes: requests to core requests, core responses to JSON.
//
// Pure translation, no sockets. Routes (docs/api.md):
//   PUT|GET|DELETE /kv/{key}   GET /kv?prefix=&limit=&cursor= (a page of keys)   GET /inspect/{key}   GET /health (ready)   GET /health/live   GET /cluster
//   GET /ring   GET /metrics (Prometheus text)
//   GET / (links to the pages)   GET /dashboard[/{file}] (the live dashboard, runtime/embedded_files.h)
//   POST /cluster/join {"address": "host:port", "node_id": "...", "zone": "..." (optional)}
//   (a node's --join; answered with the cluster state in protobuf, net/peer_codec.h; over TLS, 403
//   unless the request came with a client certificate the CA signed)
// Parameters N, R, W, sloppy and context come from the JSON body or the query string (the query wins),
// and the body is accepted whatever its Content-Type, as the seed's curl examples send it. Any other
// name, misspelled or in another case, is refused with a 400 that lists the accepted ones.
// Errors are {"status":"error","error":"..."} with the status code that fits.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/messages.h"
#include "net/http_request.h"

namespace md::net {

struct ApiLimits {
  size_t key_bytes_max = 1024;          // longer keys: 400
  size_t value_bytes_max = 1024 * 1024; // longer values (as compact JSON): 400; bodies beyond the server's limit: 413
};

// What a request asks for: a key operation, one of the info pages, a node's join, or an error to
// send as is. `health` asks whether the node is ready (serving with its ring, not stopping),
// `live` only whether the process answers.
enum class InfoPage { health, live, cluster, ring, metrics };
struct JoinRequest {
  std::string address;  // the joiner's HTTP address
  std::string node_id;
  std::string zone;  // optional: the joiner's --zone
};
// GET / ("home.html"), /dashboard ("index.html") or /dashboard/{name}: a file the runtime embeds.
struct PageFile {
  std::string name;
};
using ApiCall = std::variant<core::ClientRequest, InfoPage, JoinRequest, PageFile, HttpResponse>;

ApiCall parse_api_request(const HttpRequest& request, const ApiLimits& limits);

// The key operation an HTTP method asks for on /kv/{key} (POST writes, as PUT); nullopt for a
// method the route does not take.
std::optional<core::Op> kv_op(boost::beast::http::verb method);

// GET /inspect/{key}: one replica of the key as the runtime names it.
struct InspectedReplica {
  std::string address;
  std::string node_id;
};
// The answer to an inspect (a core::Op::inspect answered ok): each replica's copy with its version
// vector and siblings (`replicas` names response.replicas, in order) and the read at R.
HttpResponse inspect_response(const std::string& key, uint32_t partition, const core::ClientResponse& response,
                              const std::vector<InspectedReplica>& replicas);

// The HTTP answer to a key operation.
HttpResponse kv_response(core::Op op, const std::string& key, const core::ClientResponse& response);

// A JSON error response with `status`.
HttpResponse error_response(unsigned status, std::string_view message);

}  // namespace md::net
