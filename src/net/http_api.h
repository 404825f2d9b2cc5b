// The client HTTP API's shapes: requests to core requests, core responses to JSON.
//
// Pure translation, no sockets. Routes (docs/api.md):
//   PUT|GET|DELETE /kv/{key}   GET /kv?prefix=&limit=&cursor= (a page of keys)   GET /inspect/{key}   GET /health (ready)   GET /health/live   GET /cluster
//   GET /ring   GET /metrics (Prometheus text)
//   GET / (links to the pages)   GET /dashboard[/{file}] (the live dashboard, runtime/embedded_files.h)
//   POST /cluster/join {"address": "host:port", "node_id": "...", "zone": "..." (optional)}
//   (a node's --join; answered with the cluster state in protobuf, net/peer_codec.h; over TLS, 403
//   unless the request came with a client certificate the CA signed)
//   Users (docs/security.md; `minidynamo user` uses them): GET /admin/users,
//   PUT|DELETE /admin/users/{name} (PUT {"password": "..."}: add, or set the password),
//   PUT|DELETE /admin/users/{name}/grants {"prefix": "app/", "permissions": "read,write"}
//   (DELETE without permissions: the whole grant), POST /admin/users/{name}/tokens (a new API
//   token, shown once), DELETE /admin/users/{name}/tokens/{id}
//   Membership (docs/operations.md; `minidynamo admin` uses them): POST /admin/leave
//   {"node": "host:port"} (no node: this one), POST /admin/remove {"node": "host:port"},
//   POST /admin/replace {"node": "old host:port", "replacement": "new host:port"},
//   POST /admin/repair {"partition": P} (no partition: every partition this node replicates)
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
#include "core/users.h"
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
// A change to the users, or their list, asked of /admin/users.
struct UserAdmin {
  enum class Action { list, set_password, remove, grant, revoke, new_token, revoke_token };
  Action action = Action::list;
  std::string user;
  std::string password;              // set_password
  std::string prefix;                // grant, revoke
  core::Permissions permissions = 0;  // grant; revoke (0: the whole grant)
  std::string token_id;              // revoke_token
};
// A change of membership, or a repair, asked of /admin/{leave,remove,replace,repair}.
struct ClusterAdmin {
  enum class Action { leave, remove, replace, repair };
  Action action = Action::leave;
  std::string node;                   // leave (empty: this node), remove, replace: a member's address
  std::string replacement;            // replace: the new node's address
  std::optional<uint32_t> partition;  // repair: one partition; nullopt: all this node replicates
};
using ApiCall = std::variant<core::ClientRequest, InfoPage, JoinRequest, PageFile, UserAdmin, ClusterAdmin, HttpResponse>;

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

// GET /admin/users: every user that is not removed, with grants and token ids (never a secret or
// its hash).
HttpResponse users_response(const core::Users& users);

// What a refusal by the gate carries besides its status (401, 403, 429) and JSON error: a 401
// asks for Basic credentials (WWW-Authenticate, so a browser prompts: the dashboard's inspector),
// and a 429 says when to try again (Retry-After: failed attempts are repaid one a second).
HttpResponse with_auth_headers(HttpResponse response, core::Outcome outcome);
// The gate's refusal of a request that is not a key request (/admin/users).
HttpResponse refusal_response(core::Outcome outcome, std::string_view message);

// A JSON error response with `status`.
HttpResponse error_response(unsigned status, std::string_view message);

}  // namespace md::net
