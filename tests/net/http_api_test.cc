#include "net/http_api.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "core/object_codec.h"
#include "net/list_cursor.h"

namespace md::net {
namespace {

namespace http = boost::beast::http;

HttpRequest make(http::verb method, std::string path, std::string body = "",
                 std::vector<std::pair<std::string, std::string>> query = {}) {
  HttpRequest r;
  r.method = method;
  r.method_string = std::string(http::to_string(method));
  r.path = std::move(path);
  r.body = std::move(body);
  r.query = std::move(query);
  return r;
}

TEST(HttpApi, a_put_keeps_its_value_as_compact_json_and_reads_params_from_body_and_query) {
  auto call = parse_api_request(make(http::verb::put, "/kv/user 1", R"({"value": {"a": [1, 2]}, "N": 3, "W": 1})",
                                     {{"W", "2"}}), ApiLimits{});
  auto* r = std::get_if<core::ClientRequest>(&call);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->op, core::Op::put);
  EXPECT_EQ(r->key, "user 1");
  EXPECT_EQ(r->value, R"({"a":[1,2]})");
  EXPECT_EQ(r->n, 3);
  EXPECT_EQ(r->w, 2);  // the query wins
}

TEST(HttpApi, an_inspect_takes_n_and_r_only_and_answers_each_replica_and_the_read) {
  auto call = parse_api_request(make(http::verb::get, "/inspect/user 1", "", {{"R", "3"}, {"N", "3"}}), ApiLimits{});
  auto* r = std::get_if<core::ClientRequest>(&call);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->op, core::Op::inspect);
  EXPECT_EQ(r->key, "user 1");
  EXPECT_EQ(r->r, 3);
  auto status = [](ApiCall c) { return std::get<HttpResponse>(c).status; };
  EXPECT_EQ(status(parse_api_request(make(http::verb::get, "/inspect/k", "", {{"W", "2"}}), ApiLimits{})), 400u);
  EXPECT_EQ(status(parse_api_request(make(http::verb::put, "/inspect/k"), ApiLimits{})), 405u);
  EXPECT_EQ(status(parse_api_request(make(http::verb::get, "/inspect/"), ApiLimits{})), 400u);

  core::DvvSet stored;
  stored.update(core::VersionVector{}, "node_a", false, "\"v1\"");
  core::ClientResponse response;
  response.required = 2;
  response.acknowledged = 2;
  response.siblings = stored.siblings();
  response.replicas = {{0, core::ReplicaCopy::State::copy, core::encode_object(stored)},
                       {1, core::ReplicaCopy::State::missing, {}},
                       {2, core::ReplicaCopy::State::unreachable, {}}};
  auto http = inspect_response("k", 7, response, {{"10.0.0.1:5001", "node_a"}, {"10.0.0.2:5001", "node_b"},
                                                   {"10.0.0.3:5001", "node_c"}});
  EXPECT_EQ(http.status, 200u);
  EXPECT_NE(http.body.find(R"("partition":7,"N":3,"R":2)"), std::string::npos) << http.body;
  EXPECT_NE(http.body.find(R"({"address":"10.0.0.1:5001","node_id":"node_a","status":"ok","version_vector":{"node_a":1},)"
                           R"("siblings":[{"value":"v1","clock":{"node_a":1},"tombstone":false}]})"),
            std::string::npos)
      << http.body;
  EXPECT_NE(http.body.find(R"("status":"missing")"), std::string::npos) << http.body;
  EXPECT_NE(http.body.find(R"("status":"unreachable")"), std::string::npos) << http.body;
  EXPECT_NE(http.body.find(R"("read":{"status":"ok","replies":2,"siblings":[{"value":"v1")"), std::string::npos)
      << http.body;
  response.acknowledged = 1;  // R not reached: the read would have failed
  http = inspect_response("k", 7, response, {{"a:1", "a"}, {"b:1", "b"}, {"c:1", "c"}});
  EXPECT_NE(http.body.find(R"("read":{"status":"unavailable","replies":1})"), std::string::npos) << http.body;
}

TEST(HttpApi, writes_are_sloppy_unless_asked_for_a_strict_quorum) {
  auto request = [](std::string body, std::vector<std::pair<std::string, std::string>> query = {}) {
    return parse_api_request(make(http::verb::put, "/kv/k", std::move(body), std::move(query)), ApiLimits{});
  };
  EXPECT_TRUE(std::get<core::ClientRequest>(request(R"({"value": 1})")).sloppy_quorum);
  EXPECT_FALSE(std::get<core::ClientRequest>(request(R"({"value": 1, "sloppy": false})")).sloppy_quorum);
  EXPECT_FALSE(std::get<core::ClientRequest>(request(R"({"value": 1})", {{"sloppy", "false"}})).sloppy_quorum);
  EXPECT_TRUE(std::get<core::ClientRequest>(request(R"({"value": 1, "sloppy": false})", {{"sloppy", "true"}})).sloppy_quorum);
  for (auto bad : {request(R"({"value": 1, "sloppy": "no"})"), request(R"({"value": 1})", {{"sloppy", "0"}})}) {
    auto* response = std::get_if<HttpResponse>(&bad);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(response->status, 400u);
    EXPECT_NE(response->body.find("sloppy"), std::string::npos);
  }
}

TEST(HttpApi, an_unknown_or_misspelled_parameter_is_refused_naming_it_and_the_accepted_ones) {
  auto refused = [](http::verb method, std::string body, std::vector<std::pair<std::string, std::string>> query,
                    const std::string& name) {
    auto call = parse_api_request(make(method, "/kv/k", std::move(body), std::move(query)), ApiLimits{});
    auto* response = std::get_if<HttpResponse>(&call);
    ASSERT_NE(response, nullptr) << name;
    EXPECT_EQ(response->status, 400u);
    EXPECT_NE(response->body.find("'" + name + "'"), std::string::npos) << response->body;
    EXPECT_NE(response->body.find("N, R, W, sloppy"), std::string::npos) << response->body;
  };
  refused(http::verb::put, R"({"value": 1, "w": 3})", {}, "w");
  refused(http::verb::put, R"({"value": 1, "Sloppy": false})", {}, "Sloppy");
  refused(http::verb::delete_, R"({"W": 2, "quorum": 2})", {}, "quorum");
  refused(http::verb::get, "", {{"r", "2"}}, "r");
  refused(http::verb::put, R"({"value": 1})", {{"value", "2"}}, "value");  // the value goes in the body only
  // Every documented name is accepted.
  auto ok = parse_api_request(make(http::verb::put, "/kv/k", R"({"value":1,"context":null,"N":3,"R":2,"W":2,"sloppy":true})",
                                   {{"N", "3"}, {"R", "2"}, {"W", "2"}, {"sloppy", "true"}, {"context", ""}}),
                              ApiLimits{});
  EXPECT_NE(std::get_if<core::ClientRequest>(&ok), nullptr);
}

// A deeply nested body once overflowed the stack in RapidJSON's recursive parser and killed the
// node: a megabyte of '[' is now a 400. Brackets inside strings are text, not nesting.
TEST(HttpApi, a_body_nested_too_deep_is_refused_without_recursing_into_it) {
  auto nested = [](size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); };
  auto status_of_put = [](const std::string& body) {
    auto call = parse_api_request(make(http::verb::put, "/kv/k", body), ApiLimits{});
    auto* error = std::get_if<HttpResponse>(&call);
    return error ? error->status : 200u;
  };
  EXPECT_EQ(status_of_put(R"({"value": )" + nested(99) + "}"), 200u);  // the object is the 100th level
  auto call = parse_api_request(make(http::verb::put, "/kv/k", R"({"value": )" + nested(100) + "}"), ApiLimits{});
  auto* error = std::get_if<HttpResponse>(&call);
  ASSERT_NE(error, nullptr);
  EXPECT_EQ(error->status, 400u);
  EXPECT_NE(error->body.find("nested deeper than 100 levels"), std::string::npos) << error->body;
  EXPECT_EQ(status_of_put(R"({"value": )" + std::string(1 << 20, '[')), 400u);
  EXPECT_EQ(status_of_put(R"({"value": ")" + std::string(1000, '[') + R"(\"["})"), 200u);
  call = parse_api_request(make(http::verb::post, "/cluster/join", std::string(1 << 20, '{')), ApiLimits{});
  ASSERT_NE(std::get_if<HttpResponse>(&call), nullptr);
  EXPECT_EQ(std::get<HttpResponse>(call).status, 400u);
}

TEST(HttpApi, over_tls_a_join_needs_a_client_certificate_the_ca_signed) {
  const std::string body = R"({"address": "127.0.0.1:5004", "node_id": "node_d"})";
  auto join = [&](bool over_tls, bool verified) {
    auto request = make(http::verb::post, "/cluster/join", body);
    request.over_tls = over_tls;
    request.peer_certificate_verified = verified;
    return parse_api_request(request, ApiLimits{});
  };
  EXPECT_EQ(std::get<JoinRequest>(join(false, false)).address, "127.0.0.1:5004");  // clear text: no certificates at all
  EXPECT_EQ(std::get<JoinRequest>(join(true, true)).node_id, "node_d");
  auto refused = std::get<HttpResponse>(join(true, false));
  EXPECT_EQ(refused.status, 403u);
  EXPECT_NE(refused.body.find("client certificate signed by this cluster's CA"), std::string::npos) << refused.body;
  EXPECT_EQ(refused.content_type, "application/json");
}

TEST(HttpApi, membership_requests_are_parsed_and_bad_ones_refused_with_a_reason) {
  auto admin = [](std::string path, std::string body = "") {
    return parse_api_request(make(http::verb::post, std::move(path), std::move(body)), ApiLimits{});
  };
  auto leave = std::get<ClusterAdmin>(admin("/admin/leave"));  // no body: the node asked leaves
  EXPECT_EQ(leave.action, ClusterAdmin::Action::leave);
  EXPECT_EQ(leave.node, "");
  auto replace = std::get<ClusterAdmin>(admin("/admin/replace", R"({"node": "10.0.0.3:5001", "replacement": "10.0.0.9:5001"})"));
  EXPECT_EQ(replace.node, "10.0.0.3:5001");
  EXPECT_EQ(replace.replacement, "10.0.0.9:5001");
  EXPECT_EQ(replace.action, ClusterAdmin::Action::replace);
  EXPECT_EQ(*std::get<ClusterAdmin>(admin("/admin/repair", R"({"partition": 12})")).partition, 12u);
  EXPECT_FALSE(std::get<ClusterAdmin>(admin("/admin/repair")).partition.has_value());
  auto refused = [&](std::string path, std::string body, std::string says) {
    auto call = admin(path, body);
    auto* answer = std::get_if<HttpResponse>(&call);
    ASSERT_NE(answer, nullptr) << path << " " << body;
    EXPECT_EQ(answer->status, 400u) << body;
    EXPECT_NE(answer->body.find(says), std::string::npos) << answer->body;
  };
  refused("/admin/leave", "{not json", "JSON object");
  refused("/admin/remove", "", "node is missing");
  refused("/admin/remove", R"({"node": "nohost"})", "host:port");
  refused("/admin/remove", R"({"node": 5})", "must be a string");
  refused("/admin/replace", R"({"node": "10.0.0.3:5001"})", "replacement is missing");
  refused("/admin/leave", R"({"nodes": "10.0.0.3:5001"})", "unknown field 'nodes'");
  refused("/admin/repair", R"({"partition": -1})", "partition number");
  auto get = parse_api_request(make(http::verb::get, "/admin/leave"), ApiLimits{});
  EXPECT_EQ(std::get<HttpResponse>(get).status, 405u);
}

TEST(HttpApi, a_get_accepts_the_seeds_json_body) {
  auto call = parse_api_request(make(http::verb::get, "/kv/k", R"({"R": 2})"), ApiLimits{});
  ASSERT_EQ(std::get<core::ClientRequest>(call).r, 2);
}

TEST(HttpApi, routes_and_methods) {
  EXPECT_EQ(std::get<InfoPage>(parse_api_request(make(http::verb::get, "/cluster"), {})), InfoPage::cluster);
  EXPECT_EQ(std::get<InfoPage>(parse_api_request(make(http::verb::get, "/health"), {})), InfoPage::health);
  EXPECT_EQ(std::get<InfoPage>(parse_api_request(make(http::verb::get, "/health/live"), {})), InfoPage::live);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::post, "/health/live"), {})).status, 405u);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::get, "/nope"), {})).status, 404u);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::patch, "/kv/k"), {})).status, 405u);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::put, "/ring"), {})).status, 405u);
}

TEST(HttpApi, the_home_page_and_the_dashboard_are_embedded_files) {
  auto file = [](std::string path) { return std::get<PageFile>(parse_api_request(make(http::verb::get, path), {})).name; };
  EXPECT_EQ(file("/"), "home.html");
  EXPECT_EQ(file("/dashboard"), "index.html");
  EXPECT_EQ(file("/dashboard/"), "index.html");
  EXPECT_EQ(file("/dashboard/dashboard.js"), "dashboard.js");
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::get, "/dashboardx"), {})).status, 404u);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::post, "/"), {})).status, 405u);
  EXPECT_EQ(std::get<HttpResponse>(parse_api_request(make(http::verb::put, "/dashboard/x.js"), {})).status, 405u);
}

TEST(HttpApi, conflicts_show_every_sibling_with_its_clock) {
  core::ClientResponse response;
  core::Sibling a{core::Dot{"node_5001", 2}, {}, false, "\"Alice\""};
  core::Sibling b{core::Dot{"node_5002", 1}, {}, false, "\"Bob\""};
  b.context.raise("node_5001", 1);
  response.siblings = {a, b};
  response.context_token = "T";
  auto http_response = kv_response(core::Op::get, "user", response);
  EXPECT_EQ(http_response.status, 200u);
  EXPECT_EQ(http_response.body,
            R"({"status":"conflict","key":"user","siblings":[{"value":"Alice","vector_clock":{"node_5001":2}},)"
            R"({"value":"Bob","vector_clock":{"node_5001":1,"node_5002":1}}],"context":"T"})");
}

TEST(HttpApi, get_kv_lists_keys_by_prefix_limit_and_cursor_and_answers_the_next_cursor) {
  auto call = parse_api_request(make(http::verb::get, "/kv", "", {{"prefix", "user/"}, {"limit", "2"},
                                                                  {"cursor", encode_list_cursor("user/1")}, {"N", "2"}}),
                                ApiLimits{});
  auto* r = std::get_if<core::ClientRequest>(&call);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->op, core::Op::list);
  EXPECT_EQ(r->key, "user/");
  EXPECT_EQ(r->limit, 2u);
  EXPECT_EQ(r->cursor, "user/1");
  EXPECT_EQ(r->n, 2);
  auto defaults = std::get<core::ClientRequest>(parse_api_request(make(http::verb::get, "/kv"), ApiLimits{}));
  EXPECT_EQ(defaults.limit, 100u);
  EXPECT_EQ(defaults.key, "");
  EXPECT_EQ(defaults.cursor, std::nullopt);

  core::ClientResponse page;
  page.keys = {"user/2", "user/\"3\""};
  page.next_cursor = "user/\"3\"";
  EXPECT_EQ(kv_response(core::Op::list, "user/", page).body,
            R"({"status":"success","keys":["user/2","user/\"3\""],"cursor":")" + encode_list_cursor("user/\"3\"") +
                R"("})");
  page.next_cursor.reset();
  EXPECT_EQ(kv_response(core::Op::list, "user/", page).body,
            R"({"status":"success","keys":["user/2","user/\"3\""],"cursor":null})");
}

TEST(HttpApi, a_listing_with_a_bad_limit_cursor_or_parameter_or_method_is_refused_clearly) {
  auto refused = [](http::verb method, std::vector<std::pair<std::string, std::string>> query) {
    auto call = parse_api_request(make(method, "/kv", "", std::move(query)), ApiLimits{});
    auto* response = std::get_if<HttpResponse>(&call);
    return response ? std::pair{response->status, response->body} : std::pair{0u, std::string()};
  };
  for (const char* limit : {"0", "10001", "-1", "ten"}) {
    auto [status, body] = refused(http::verb::get, {{"limit", limit}});
    EXPECT_EQ(status, 400u) << limit;
    EXPECT_NE(body.find("limit"), std::string::npos) << body;
  }
  EXPECT_EQ(refused(http::verb::get, {{"cursor", "0"}}).first, 400u);
  EXPECT_NE(refused(http::verb::get, {{"cursor", "0"}}).second.find("not one a listing handed out"), std::string::npos);
  EXPECT_NE(refused(http::verb::get, {{"W", "2"}}).second.find("accepted: prefix, limit, cursor, N"), std::string::npos);
  EXPECT_EQ(refused(http::verb::get, {{"prefix", std::string(1025, 'p')}}).first, 400u);
  EXPECT_EQ(refused(http::verb::put, {}).first, 405u);
}

TEST(HttpApi, quorum_failures_are_503_with_the_counts) {
  core::ClientResponse response;
  response.outcome = core::Outcome::unavailable;
  response.message = "write quorum not reached";
  response.acknowledged = 2;
  response.required = 3;
  auto r = kv_response(core::Op::put, "k", response);
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, R"({"status":"error","error":"write quorum not reached","required":3,"acknowledged":2,"key":"k"})");
}

// Whatever a client sends, the parser answers: a request, a page or an error. Never a crash.
RC_GTEST_PROP(HttpApi, any_request_gets_an_answer, (std::string path, std::string body, int method)) {
  static const http::verb verbs[] = {http::verb::get, http::verb::put, http::verb::delete_, http::verb::post,
                                     http::verb::patch};
  auto verb = verbs[static_cast<unsigned>(method) % 5];
  for (const auto& p : {"/kv/" + path, path}) {
    for (const auto& b : {body, "{\"value\":" + body + "}", "{\"N\":" + body + ",\"context\":\"" + body + "\"}"}) {
      auto call = parse_api_request(make(verb, p, b, {{"R", body}}), ApiLimits{});
      RC_ASSERT(call.index() < std::variant_size_v<ApiCall>);
    }
  }
}

}  // namespace
}  // namespace md::net
