#include "net/http_api.h"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <iterator>

#include "core/cluster_state.h"
#include "core/object_codec.h"
#include "net/list_cursor.h"

namespace md::net {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void write_string(Writer& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

HttpResponse bad_request(std::string message) { return error_response(400, message); }

// RapidJSON parses, copies and frees nested values by recursion, so a body of a million '[' would
// overflow the stack and kill the node; bodies may nest this deep, far beyond any sensible value.
constexpr size_t kJsonDepthMax = 100;

// Parses a request body as JSON. Its nesting is measured first, without recursion (brackets
// outside strings), so RapidJSON never recurses deeper than kJsonDepthMax.
Status parse_json(std::string_view text, rapidjson::Document* document) {
  size_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // skips the escaped character, which may be a quote
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kJsonDepthMax) {
        return Status::invalid_argument("the body is nested deeper than " + std::to_string(kJsonDepthMax) + " levels");
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  document->Parse(text.data(), text.size());
  if (document->HasParseError()) {
    return Status::invalid_argument(std::string("the body is not valid JSON: ") +
                                    rapidjson::GetParseError_En(document->GetParseError()) + " at offset " +
                                    std::to_string(document->GetErrorOffset()));
  }
  return Status::ok();
}

Result<int64_t> parse_int(std::string_view name, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return Status::invalid_argument(std::string(name) + " must be an integer, got '" + std::string(text) + "'");
  }
  return v;
}

// What a /kv request may carry. Names are case-sensitive: a misspelled one ("w", "Sloppy") is
// refused rather than ignored, so a client never silently gets a quorum it did not ask for.
constexpr std::string_view kBodyFields[] = {"value", "context", "N", "R", "W", "sloppy"};
constexpr std::string_view kQueryParams[] = {"context", "N", "R", "W", "sloppy"};
constexpr std::string_view kInspectParams[] = {"N", "R"};
constexpr std::string_view kListParams[] = {"prefix", "limit", "cursor", "N"};
constexpr uint32_t kListLimitDefault = 100;

template <size_t size>
Status refuse_unknown(std::string_view name, const std::string_view (&accepted)[size], std::string_view what) {
  if (std::find(std::begin(accepted), std::end(accepted), name) != std::end(accepted)) return Status::ok();
  std::string list;
  for (auto a : accepted) list += (list.empty() ? "" : ", ") + std::string(a);
  return Status::invalid_argument("unknown " + std::string(what) + " '" + std::string(name) + "'; accepted: " + list +
                                  " (case-sensitive)");
}

// Reads N, R, W, sloppy and context from a parsed JSON body; any other member but value is refused.
Status read_body_params(const rapidjson::Value& body, core::ClientRequest* r) {
  for (const auto& member : body.GetObject()) {
    auto s = refuse_unknown({member.name.GetString(), member.name.GetStringLength()}, kBodyFields, "field in the body");
    if (!s.is_ok()) return s;
  }
  for (auto [name, slot] : {std::pair{"N", &r->n}, std::pair{"R", &r->r}, std::pair{"W", &r->w}}) {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd()) continue;
    if (!it->value.IsInt64()) return Status::invalid_argument(std::string(name) + " must be an integer");
    *slot = it->value.GetInt64();
  }
  if (auto it = body.FindMember("sloppy"); it != body.MemberEnd()) {
    if (!it->value.IsBool()) return Status::invalid_argument("sloppy must be true or false");
    r->sloppy_quorum = it->value.GetBool();
  }
  if (auto it = body.FindMember("context"); it != body.MemberEnd() && !it->value.IsNull()) {
    if (!it->value.IsString()) return Status::invalid_argument("context must be the string a read returned");
    r->context_token = std::string(it->value.GetString(), it->value.GetStringLength());
  }
  return Status::ok();
}

template <size_t size>
Status read_query_params(const HttpRequest& request, core::ClientRequest* r, const std::string_view (&accepted)[size]) {
  for (const auto& [name, value] : request.query) {
    if (auto s = refuse_unknown(name, accepted, "query parameter"); !s.is_ok()) return s;
    std::optional<int64_t>* slot = name == "N" ? &r->n : name == "R" ? &r->r : name == "W" ? &r->w : nullptr;
    if (slot != nullptr) {
      auto v = parse_int(name, value);
      if (!v.is_ok()) return v.status();
      *slot = *v;
    } else if (name == "context") {
      r->context_token = value;
    } else if (name == "sloppy") {
      if (value != "true" && value != "false") {
        return Status::invalid_argument("sloppy must be true or false, got '" + value + "'");
      }
      r->sloppy_quorum = value == "true";
    }
  }
  return Status::ok();
}

Status check_key(std::string_view key, std::string_view route, const ApiLimits& limits) {
  if (key.empty()) return Status::invalid_argument("the key must not be empty: use " + std::string(route));
  if (key.size() > limits.key_bytes_max) {
    return Status::invalid_argument("the key is " + std::to_string(key.size()) + " bytes; the limit is " +
                                    std::to_string(limits.key_bytes_max));
  }
  return Status::ok();
}

// GET /inspect/{key}?N=&R=: every replica's own copy and what a read at R would answer.
ApiCall parse_inspect(const HttpRequest& request, std::string_view key, const ApiLimits& limits) {
  if (request.method != boost::beast::http::verb::get) {
    return error_response(405, "method " + request.method_string + " is not allowed on /inspect/{key}; use GET");
  }
  if (auto s = check_key(key, "/inspect/{key}", limits); !s.is_ok()) return bad_request(s.message());
  core::ClientRequest r;
  r.op = core::Op::inspect;
  r.key = std::string(key);
  if (auto s = read_query_params(request, &r, kInspectParams); !s.is_ok()) return bad_request(s.message());
  return r;
}

// GET /kv?prefix=&limit=&cursor=&N=: a page of the cluster's keys in order (core/key_lister.h).
ApiCall parse_list(const HttpRequest& request, const ApiLimits& limits) {
  if (request.method != boost::beast::http::verb::get) {
    return error_response(405, "method " + request.method_string +
                                   " is not allowed on /kv; use GET /kv?prefix=&limit=&cursor= to list keys, or "
                                   "/kv/{key} for one key");
  }
  core::ClientRequest r;
  r.op = core::Op::list;
  r.limit = kListLimitDefault;
  for (const auto& [name, value] : request.query) {
    if (auto s = refuse_unknown(name, kListParams, "query parameter"); !s.is_ok()) return bad_request(s.message());
    if (name == "prefix") {
      if (value.size() > limits.key_bytes_max) {
        return bad_request("the prefix is " + std::to_string(value.size()) + " bytes; keys are at most " +
                           std::to_string(limits.key_bytes_max));
      }
      r.key = value;
    } else if (name == "cursor") {
      auto after = decode_list_cursor(value);
      if (!after.is_ok()) return bad_request(after.status().message());
      r.cursor = std::move(after).value();
    } else {
      auto v = parse_int(name, value);
      if (!v.is_ok()) return bad_request(v.status().message());
      if (name == "N") {
        r.n = *v;
      } else if (*v < 1 || *v > core::kListLimitMax) {
        return bad_request("limit must be 1 to " + std::to_string(core::kListLimitMax) + ", got " + value);
      } else {
        r.limit = static_cast<uint32_t>(*v);
      }
    }
  }
  return r;
}

// The answer to a list: the page's keys and the cursor of the next page (null: no more).
HttpResponse list_response(const core::ClientResponse& response) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("keys");
  w.StartArray();
  for (const auto& key : response.keys) write_string(w, key);
  w.EndArray();
  w.Key("cursor");
  if (response.next_cursor) {
    write_string(w, encode_list_cursor(*response.next_cursor));
  } else {
    w.Null();
  }
  w.EndObject();
  HttpResponse http;
  http.body.assign(buffer.GetString(), buffer.GetSize());
  return http;
}

ApiCall parse_kv(const HttpRequest& request, std::string_view key, const ApiLimits& limits) {
  core::ClientRequest r;
  const auto op = kv_op(request.method);
  if (!op) {
    return error_response(405, "method " + request.method_string + " is not allowed on /kv/{key}; use GET, PUT or DELETE");
  }
  r.op = *op;
  if (auto s = check_key(key, "/kv/{key}", limits); !s.is_ok()) return bad_request(s.message());
  r.key = std::string(key);

  bool has_body = request.body.find_first_not_of(" \t\r\n") != std::string::npos;
  rapidjson::Document body;
  if (has_body) {
    if (auto s = parse_json(request.body, &body); !s.is_ok()) return bad_request(s.message());
    if (!body.IsObject()) return bad_request("the body must be a JSON object");
    if (auto s = read_body_params(body, &r); !s.is_ok()) return bad_request(s.message());
  }
  if (auto s = read_query_params(request, &r, kQueryParams); !s.is_ok()) return bad_request(s.message());

  if (r.op == core::Op::put) {
    if (!has_body || !body.HasMember("value")) {
      return bad_request("a write needs a JSON body with a \"value\", e.g. {\"value\": \"Alice\"}");
    }
    auto it = body.FindMember("value");
    rapidjson::StringBuffer buffer;
    Writer w(buffer);
    it->value.Accept(w);
    if (buffer.GetSize() > limits.value_bytes_max) {  // 413 as for a body over its limit, inflated or not
      return error_response(413, "the value is " + std::to_string(buffer.GetSize()) + " bytes as JSON; the limit is " +
                                     std::to_string(limits.value_bytes_max));
    }
    r.value.assign(buffer.GetString(), buffer.GetSize());
  }
  return r;
}

unsigned status_of(core::Outcome outcome) {
  switch (outcome) {
    case core::Outcome::ok: return 200;
    case core::Outcome::not_found: return 404;
    case core::Outcome::bad_request: return 400;
    case core::Outcome::too_many_siblings: return 409;
    case core::Outcome::unavailable: return 503;
    case core::Outcome::internal_error: return 500;
    case core::Outcome::unauthenticated: return 401;
    case core::Outcome::forbidden: return 403;
    case core::Outcome::rate_limited: return 429;
  }
  return 500;
}

void write_clock(Writer& w, const core::VersionVector& clock) {
  w.StartObject();
  for (const auto& [node, counter] : clock.entries()) {
    write_string(w, node);
    w.Uint64(counter);
  }
  w.EndObject();
}

// A node's address as a request names it: host:port, with a port from 1 to 65535.
Status check_address(std::string_view name, const std::string& address) {
  auto colon = address.rfind(':');
  unsigned port = 0;
  const char* end = address.data() + address.size();
  auto parsed = colon == std::string::npos ? std::from_chars_result{end, std::errc::invalid_argument}
                                           : std::from_chars(address.data() + colon + 1, end, port);
  if (colon == std::string::npos || colon == 0 || address.size() > 262 || parsed.ec != std::errc() ||
      parsed.ptr != end || port == 0 || port > 65535) {
    return Status::invalid_argument(std::string(name) + " must be host:port, got '" + address + "'");
  }
  return Status::ok();
}

// POST /admin/{leave,remove,replace,repair}: `what` is the last part of the path.
ApiCall parse_cluster_admin(const HttpRequest& request, std::string_view what) {
  using Action = ClusterAdmin::Action;
  ClusterAdmin admin;
  if (what == "leave") {
    admin.action = Action::leave;
  } else if (what == "remove") {
    admin.action = Action::remove;
  } else if (what == "replace") {
    admin.action = Action::replace;
  } else {
    admin.action = Action::repair;
  }
  if (request.method != boost::beast::http::verb::post) {
    return error_response(405, "method " + request.method_string + " is not allowed on " + request.path + "; use POST");
  }
  rapidjson::Document body;
  if (request.body.empty()) {
    body.SetObject();
  } else if (!parse_json(request.body, &body).is_ok() || !body.IsObject()) {
    return bad_request("the body must be a JSON object (or empty)");
  }
  for (const auto& member : body.GetObject()) {
    const std::string_view name(member.name.GetString(), member.name.GetStringLength());
    const bool known = admin.action == Action::repair ? name == "partition"
                                                      : name == "node" || (admin.action == Action::replace && name == "replacement");
    if (!known) {
      return bad_request("unknown field '" + std::string(name) + "' for " + request.path + " (fields: " +
                         (admin.action == Action::repair    ? "partition"
                          : admin.action == Action::replace ? "node, replacement"
                                                            : "node") +
                         ")");
    }
  }
  if (admin.action == Action::repair) {
    if (auto p = body.FindMember("partition"); p != body.MemberEnd()) {
      if (!p->value.IsUint()) return bad_request("partition must be a partition number");
      admin.partition = p->value.GetUint();
    }
    return admin;
  }
  for (auto [name, slot] : {std::pair{"node", &admin.node}, std::pair{"replacement", &admin.replacement}}) {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd()) continue;
    if (!it->value.IsString()) return bad_request(std::string(name) + " must be a string (host:port)");
    *slot = it->value.GetString();
    if (auto valid = check_address(name, *slot); !valid.is_ok()) return bad_request(valid.message());
  }
  if (admin.node.empty() && admin.action != Action::leave) {
    return bad_request("node is missing: the member to " + std::string(what) + ", as host:port");
  }
  if (admin.replacement.empty() && admin.action == Action::replace) {
    return bad_request("replacement is missing: the new node's address, host:port");
  }
  return admin;
}

ApiCall parse_join(const HttpRequest& request) {
  if (request.method != boost::beast::http::verb::post) {
    return error_response(405, "method " + request.method_string + " is not allowed on /cluster/join; use POST");
  }
  // With TLS on, only a node of the cluster joins: it presents its certificate (--tls-cert) as the
  // client's, and the cluster's CA must have signed it.
  if (request.over_tls && !request.peer_certificate_verified) {
    return error_response(403, "joining needs a client certificate signed by this cluster's CA (the joining node's "
                               "--tls-cert); this request presented none, or one the CA did not sign");
  }
  rapidjson::Document body;
  if (!parse_json(request.body, &body).is_ok() || !body.IsObject()) {
    return bad_request("the body must be a JSON object with address and node_id");
  }
  JoinRequest join;
  for (auto [name, slot] : {std::pair{"address", &join.address}, std::pair{"node_id", &join.node_id}}) {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd() || !it->value.IsString() || it->value.GetStringLength() == 0) {
      return bad_request(std::string(name) + " must be a non-empty string");
    }
    *slot = it->value.GetString();
  }
  if (auto valid = check_address("address", join.address); !valid.is_ok()) return bad_request(valid.message());
  if (join.node_id.size() > 128 || join.node_id.find_first_of(" \t\r\n\"\\") != std::string::npos) {
    return bad_request("node_id must be at most 128 characters without spaces, quotes or backslashes");
  }
  if (auto zone = body.FindMember("zone"); zone != body.MemberEnd()) {
    if (!zone->value.IsString()) return bad_request("zone must be a string");
    join.zone = zone->value.GetString();
    if (auto valid = core::validate_zone(join.zone); !valid.is_ok()) return bad_request(valid.message());
  }
  return join;
}

// /admin/users[/{name}[/grants | /tokens[/{id}]]]: `rest` is what follows /admin/users.
ApiCall parse_user_admin(const HttpRequest& request, std::string_view rest, const ApiLimits& limits) {
  using Action = UserAdmin::Action;
  using boost::beast::http::verb;
  auto refuse_method = [&](const char* allowed) {
    return error_response(405, "method " + request.method_string + " is not allowed on " + request.path + "; use " + allowed);
  };
  UserAdmin admin;
  if (rest.empty() || rest == "/") return request.method == verb::get ? ApiCall(admin) : refuse_method("GET");
  rest.remove_prefix(1);
  const size_t slash = rest.find('/');
  admin.user = std::string(rest.substr(0, slash));
  if (auto valid = core::validate_user_name(admin.user); !valid.is_ok()) return bad_request(valid.message());
  const std::string_view what = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  rapidjson::Document body;
  auto string_field = [&](const char* name, std::string* out) -> Status {
    auto it = body.FindMember(name);
    if (it == body.MemberEnd()) return Status::not_found(name);
    if (!it->value.IsString()) return Status::invalid_argument(std::string(name) + " must be a string");
    out->assign(it->value.GetString(), it->value.GetStringLength());
    return Status::ok();
  };
  auto read_body = [&](const char* shape) -> Status {
    if (!parse_json(request.body.empty() ? "{}" : request.body, &body).is_ok() || !body.IsObject()) {
      return Status::invalid_argument(std::string("the body must be a JSON object: ") + shape);
    }
    return Status::ok();
  };
  if (what.empty()) {
    if (request.method == verb::delete_) {
      admin.action = Action::remove;
      return admin;
    }
    if (request.method != verb::put) return refuse_method("PUT or DELETE");
    admin.action = Action::set_password;
    if (auto s = read_body("{\"password\": \"...\"}"); !s.is_ok()) return bad_request(s.message());
    if (auto s = string_field("password", &admin.password); !s.is_ok() || admin.password.empty()) {
      return bad_request("password must be a non-empty string");
    }
    if (admin.password.size() > 1024) return bad_request("password is longer than 1024 bytes");
    return admin;
  }
  if (what == "grants") {
    if (request.method != verb::put && request.method != verb::delete_) return refuse_method("PUT or DELETE");
    admin.action = request.method == verb::put ? Action::grant : Action::revoke;
    if (auto s = read_body("{\"prefix\": \"app/\", \"permissions\": \"read,write\"}"); !s.is_ok()) {
      return bad_request(s.message());
    }
    if (auto s = string_field("prefix", &admin.prefix); !s.is_ok()) {
      return bad_request("prefix must be a string (\"\" for every key)");
    }
    if (admin.prefix.size() > limits.key_bytes_max) {
      return bad_request("prefix is " + std::to_string(admin.prefix.size()) + " bytes; a key's limit is " +
                         std::to_string(limits.key_bytes_max));
    }
    std::string names;
    if (auto s = string_field("permissions", &names); s.code() == Code::invalid_argument) return bad_request(s.message());
    if (names.empty() && admin.action == Action::grant) {
      return bad_request("permissions must name what the grant allows: read, write, delete, list, admin or all");
    }
    if (!names.empty()) {
      auto bits = core::parse_permissions(names);
      if (!bits.is_ok()) return bad_request(bits.status().message());
      admin.permissions = *bits;
    }
    return admin;
  }
  if (what == "tokens") {
    if (request.method != verb::post) return refuse_method("POST");
    admin.action = Action::new_token;
    return admin;
  }
  if (what.starts_with("tokens/")) {
    if (request.method != verb::delete_) return refuse_method("DELETE");
    admin.action = Action::revoke_token;
    admin.token_id = std::string(what.substr(7));
    if (admin.token_id.empty()) return bad_request("the token id is missing: DELETE /admin/users/{name}/tokens/{id}");
    return admin;
  }
  return error_response(404, "no such route: " + request.method_string + " " + request.path +
                                 " (/admin/users, /admin/users/{name}, /admin/users/{name}/grants, "
                                 "/admin/users/{name}/tokens[/{id}])");
}

}  // namespace

HttpResponse users_response(const core::Users& users) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("users");
  w.StartArray();
  for (const auto& [name, user] : users) {
    if (user.removed) continue;
    w.StartObject();
    w.Key("name");
    write_string(w, name);
    w.Key("password");  // whether one is set; never the hash
    w.Bool(!user.password_hash.empty());
    w.Key("grants");
    w.StartArray();
    for (const auto& [prefix, permissions] : user.grants) {
      w.StartObject();
      w.Key("prefix");
      write_string(w, prefix);
      w.Key("permissions");
      write_string(w, core::permission_names(permissions));
      w.EndObject();
    }
    w.EndArray();
    w.Key("tokens");  // ids only
    w.StartArray();
    for (const auto& [id, digest] : user.tokens) write_string(w, id);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  HttpResponse response;
  response.body.assign(buffer.GetString(), buffer.GetSize());
  return response;
}

HttpResponse with_auth_headers(HttpResponse response, core::Outcome outcome) {
  if (outcome == core::Outcome::unauthenticated) {
    response.headers.emplace_back("WWW-Authenticate", "Basic realm=\"minidynamo\", charset=\"UTF-8\"");
  } else if (outcome == core::Outcome::rate_limited) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

HttpResponse refusal_response(core::Outcome outcome, std::string_view message) {
  return with_auth_headers(error_response(status_of(outcome), message), outcome);
}

HttpResponse error_response(unsigned status, std::string_view message) {
  HttpResponse response;
  response.status = status;
  response.body = json_error_body(message);
  return response;
}

std::optional<core::Op> kv_op(boost::beast::http::verb method) {
  switch (method) {
    case boost::beast::http::verb::get: return core::Op::get;
    case boost::beast::http::verb::put: return core::Op::put;
    case boost::beast::http::verb::post: return core::Op::put;  // as many clients send writes
    case boost::beast::http::verb::delete_: return core::Op::del;
    default: return std::nullopt;
  }
}

ApiCall parse_api_request(const HttpRequest& request, const ApiLimits& limits) {
  constexpr std::string_view kv = "/kv/";
  if (request.path.starts_with(kv)) return parse_kv(request, std::string_view(request.path).substr(kv.size()), limits);
  if (request.path == "/kv") return parse_list(request, limits);
  constexpr std::string_view inspect = "/inspect/";
  if (request.path.starts_with(inspect)) {
    return parse_inspect(request, std::string_view(request.path).substr(inspect.size()), limits);
  }
  if (request.path == "/cluster/join") return parse_join(request);
  constexpr std::string_view users = "/admin/users";
  if (request.path == users || request.path.starts_with("/admin/users/")) {
    return parse_user_admin(request, std::string_view(request.path).substr(users.size()), limits);
  }
  for (std::string_view what : {"leave", "remove", "replace", "repair"}) {
    if (request.path == "/admin/" + std::string(what)) return parse_cluster_admin(request, what);
  }
  const bool get = request.method == boost::beast::http::verb::get;
  auto get_only = [&] {
    return error_response(405, "method " + request.method_string + " is not allowed on " + request.path + "; use GET");
  };
  constexpr std::string_view dashboard = "/dashboard";
  if (request.path == "/") return get ? ApiCall(PageFile{"home.html"}) : get_only();
  if (request.path == dashboard || request.path.starts_with("/dashboard/")) {
    std::string_view name = std::string_view(request.path).substr(std::min(request.path.size(), dashboard.size() + 1));
    return get ? ApiCall(PageFile{name.empty() ? "index.html" : std::string(name)}) : get_only();
  }
  for (auto [path, page] : {std::pair{"/health", InfoPage::health}, std::pair{"/health/live", InfoPage::live},
                            std::pair{"/cluster", InfoPage::cluster}, std::pair{"/ring", InfoPage::ring},
                            std::pair{"/metrics", InfoPage::metrics}}) {
    if (request.path == path) return get ? ApiCall(page) : get_only();
  }
  return error_response(404, "no such route: " + request.method_string + " " + request.path +
                                 " (routes: /kv/{key}, /kv?prefix=, /inspect/{key}, /health, /health/live, /cluster, /ring, /metrics, "
                                 "/cluster/join, /admin/users, /admin/leave, /admin/remove, /admin/replace, /admin/repair, /, /dashboard)");
}

HttpResponse kv_response(core::Op op, const std::string& key, const core::ClientResponse& response) {
  if (op == core::Op::list && response.outcome == core::Outcome::ok) return list_response(response);
  HttpResponse http;
  http.status = status_of(response.outcome);
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("status");
  switch (response.outcome) {
    case core::Outcome::ok:
      w.String(op == core::Op::get && response.siblings.size() > 1 ? "conflict" : "success");
      break;
    case core::Outcome::not_found: w.String("not_found"); break;
    default:
      w.String("error");
      w.Key("error");
      write_string(w, response.message);
      if (response.outcome == core::Outcome::unavailable && response.required > 0) {
        w.Key("required");
        w.Uint(response.required);
        w.Key("acknowledged");
        w.Uint(response.acknowledged);
      }
  }
  w.Key("key");
  write_string(w, key);
  if (response.outcome == core::Outcome::ok && op == core::Op::get) {
    if (response.siblings.size() == 1) {
      const auto& s = response.siblings[0];
      w.Key("value");
      w.RawValue(s.value.data(), s.value.size(), rapidjson::kObjectType);
      w.Key("vector_clock");
      write_clock(w, s.clock());
    } else {
      w.Key("siblings");
      w.StartArray();
      for (const auto& s : response.siblings) {
        w.StartObject();
        w.Key("value");
        w.RawValue(s.value.data(), s.value.size(), rapidjson::kObjectType);
        w.Key("vector_clock");
        write_clock(w, s.clock());
        w.EndObject();
      }
      w.EndArray();
    }
  } else if (response.outcome == core::Outcome::ok) {
    w.Key("replicas_written");
    w.Uint(response.acknowledged);
  }
  if (!response.context_token.empty()) {
    w.Key("context");
    write_string(w, response.context_token);
  }
  w.EndObject();
  http.body.assign(buffer.GetString(), buffer.GetSize());
  return http;
}

HttpResponse inspect_response(const std::string& key, uint32_t partition, const core::ClientResponse& response,
                              const std::vector<InspectedReplica>& replicas) {
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  auto write_siblings = [&w](const std::vector<core::Sibling>& siblings) {
    w.Key("siblings");
    w.StartArray();
    for (const auto& s : siblings) {
      w.StartObject();
      w.Key("value");
      if (s.tombstone) {
        w.Null();
      } else {
        w.RawValue(s.value.data(), s.value.size(), rapidjson::kObjectType);
      }
      w.Key("clock");
      write_clock(w, s.clock());
      w.Key("tombstone");
      w.Bool(s.tombstone);
      w.EndObject();
    }
    w.EndArray();
  };
  w.StartObject();
  w.Key("status");
  w.String("success");
  w.Key("key");
  write_string(w, key);
  w.Key("partition");
  w.Uint(partition);
  w.Key("N");
  w.Uint(static_cast<unsigned>(response.replicas.size()));
  w.Key("R");
  w.Uint(response.required);
  w.Key("replicas");  // in preference-list order, each replica's own copy
  w.StartArray();
  for (size_t i = 0; i < response.replicas.size(); ++i) {
    const auto& copy = response.replicas[i];
    w.StartObject();
    w.Key("address");
    write_string(w, replicas[i].address);
    w.Key("node_id");
    write_string(w, replicas[i].node_id);
    w.Key("status");
    constexpr const char* kStates[] = {"ok", "missing", "unreachable", "error"};
    w.String(kStates[static_cast<int>(copy.state)]);
    if (copy.state == core::ReplicaCopy::State::copy) {
      auto object = core::decode_object(copy.object);  // checked by the core when it arrived
      w.Key("version_vector");
      write_clock(w, object->context());
      write_siblings(object->siblings());
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("read");  // what a GET at R would have answered: the first R replies merged
  w.StartObject();
  w.Key("status");
  const bool reached = response.acknowledged >= response.required;
  w.String(!reached                       ? "unavailable"
           : response.siblings.empty()    ? "not_found"
           : response.siblings.size() > 1 ? "conflict"
                                          : "ok");
  w.Key("replies");
  w.Uint(response.acknowledged);
  if (reached) {
    write_siblings(response.siblings);
    if (!response.context_token.empty()) {
      w.Key("context");
      write_string(w, response.context_token);
    }
  }
  w.EndObject();
  w.EndObject();
  HttpResponse http;
  http.body.assign(buffer.GetString(), buffer.GetSize());
  return http;
}

}  // namespace md::net
