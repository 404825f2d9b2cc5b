#include "cli/client_commands.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <iostream>

#include "cli/admin_commands.h"
#include "cli/node_client.h"
#include "cli/table.h"
#include "core/messages.h"
#include "net/http_client.h"

namespace md::cli {
namespace {

// Exit codes (docs/api.md); 2, a usage error, is main's.
enum Exit { kOk = 0, kError = 1, kUsage = 2, kNotFound = 3, kConflict = 4, kUnavailable = 5 };

struct ClientOptions : NodeConnection {
  std::string key;
  std::string value;
  std::string context;
  std::optional<int> n, r, w;
  std::string sloppy;  // writes: "true" or "false" (strict quorum); empty: the node's default (sloppy)
};

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string query(const ClientOptions& o) {
  std::string q;
  for (auto [name, v] : {std::pair{"N", o.n}, std::pair{"R", o.r}, std::pair{"W", o.w}}) {
    if (v) q += std::string(q.empty() ? "?" : "&") + name + "=" + std::to_string(*v);
  }
  if (!o.sloppy.empty()) q += std::string(q.empty() ? "?" : "&") + "sloppy=" + o.sloppy;
  return q;
}

int print_response(const Result<net::HttpResponse>& result) {
  if (!result.is_ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return kError;
  }
  rapidjson::Document doc;
  doc.Parse(result->body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    std::cerr << "error: HTTP " << result->status << ": " << result->body << "\n";
    return kError;
  }
  auto text = [&](const char* name) {
    return doc.HasMember(name) && doc[name].IsString() ? std::string(doc[name].GetString()) : std::string();
  };
  std::string status = text("status");
  int code = kOk;
  if (status == "success" && doc.HasMember("value")) {
    std::cout << to_json(doc["value"]) << "\n";
    std::cout << "vector_clock: " << to_json(doc["vector_clock"]) << "\n";
  } else if (status == "success") {
    std::cout << "ok: " << (doc.HasMember("replicas_written") ? doc["replicas_written"].GetUint() : 0)
              << " replicas written\n";
  } else if (status == "conflict") {
    const auto& siblings = doc["siblings"];
    std::cout << siblings.Size() << " siblings (concurrent writes); write back with --context to resolve:\n";
    for (const auto& s : siblings.GetArray()) {
      std::cout << "  " << to_json(s["value"]) << "  vector_clock: " << to_json(s["vector_clock"]) << "\n";
    }
    code = kConflict;
  } else if (status == "not_found") {
    std::cerr << "not found: " << text("key") << "\n";
    code = kNotFound;
  } else {
    std::cerr << "error (HTTP " << result->status << "): " << text("error");
    if (doc.HasMember("required") && doc["required"].IsUint() && doc.HasMember("acknowledged") &&
        doc["acknowledged"].IsUint()) {
      std::cerr << " [" << doc["acknowledged"].GetUint() << " of the " << doc["required"].GetUint()
                << " required acknowledged]";
    }
    std::cerr << "\n";
    return result->status == 503 ? kUnavailable : kError;
  }
  if (!text("context").empty()) std::cout << "context: " << text("context") << "\n";
  return code;
}

int run(const ClientOptions& o, boost::beast::http::verb verb) {
  auto client = client_for(o);
  if (!client) return kUsage;
  rapidjson::Document body(rapidjson::kObjectType);
  auto& alloc = body.GetAllocator();
  if (verb == boost::beast::http::verb::put) {
    // A value that parses as JSON is sent as that JSON; anything else as a string.
    rapidjson::Document value;
    value.Parse(o.value.c_str());
    rapidjson::Value v;
    if (value.HasParseError()) {
      v.SetString(o.value.c_str(), static_cast<rapidjson::SizeType>(o.value.size()), alloc);
    } else {
      v.CopyFrom(value, alloc);
    }
    body.AddMember("value", v, alloc);
  }
  if (!o.context.empty()) {
    body.AddMember("context", rapidjson::Value(o.context.c_str(), alloc), alloc);
  }
  std::string target = "/kv/" + net::url_encode_path_segment(o.key) + query(o);
  return print_response(client->request(verb, target, verb == boost::beast::http::verb::get ? "" : to_json(body)));
}

void add_verb(CLI::App& app, const char* name, const char* help, boost::beast::http::verb verb) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = app.add_subcommand(name, help);
  cmd->add_option("key", o->key, "The key")->required();
  if (verb == boost::beast::http::verb::put) {
    cmd->add_option("value", o->value, "The value: JSON, or else taken as a string")->required();
  }
  add_connection_options(cmd, *o);
  cmd->add_option("--n", o->n, "Replicas N");
  if (verb == boost::beast::http::verb::get) {
    cmd->add_option("--r", o->r, "Read quorum R");
  } else {
    cmd->add_option("--w", o->w, "Write quorum W");
    cmd->add_option("--context", o->context,
                    "The context a read printed: the write replaces what that read saw (without it, a put is a "
                    "blind write, concurrent with what is stored)");
    cmd->add_option("--sloppy", o->sloppy,
                    "false: a strict quorum, only the key's own replicas count toward W (default: the node's, true)")
        ->check(CLI::IsMember({"true", "false"}));
  }
  exit_with(cmd, [o, verb] { return run(*o, verb); });
}

// Prints how one node sees the cluster (GET /cluster) as a table.
int status(const ClientOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  auto answer = request_json(*client, boost::beast::http::verb::get, "/cluster");
  if (!answer) return kError;
  const auto& doc = answer->doc;
  if (!doc.HasMember("nodes") || !doc["nodes"].IsArray()) {
    std::cerr << "error: HTTP " << answer->status << ": " << answer->body << "\n";
    return kError;
  }
  std::printf("%s (%s, versioning new writes as %s) sees:\n", doc["node_id"].GetString(), doc["address"].GetString(),
              doc["actor"].GetString());
  if (doc.HasMember("id_conflict") && doc["id_conflict"].IsString()) {
    std::printf("WARNING: %s also claims this node's id; this node versions no writes (docs/operations.md)\n",
                doc["id_conflict"].GetString());
  }
  // HINTS: writes this node keeps for that node, to hand off when it is reachable. ROLE: serving,
  // joining, leaving, removing, replacing or departed (`minidynamo admin status`).
  Table table({{"ADDRESS"}, {"NODE ID"}, {"ZONE"}, {"STATUS"}, {"PHI", true}, {"HINTS", true}, {"ROLE"}}, "  ");
  for (const auto& n : doc["nodes"].GetArray()) {
    const std::string node_status = n["self"].GetBool() ? "self" : n["status"].GetString();
    char phi[32] = "-";
    if (node_status == "up" || node_status == "suspect") std::snprintf(phi, sizeof phi, "%.2f", n["phi"].GetDouble());
    table.add_row({n["address"].GetString(), n["node_id"].GetStringLength() ? n["node_id"].GetString() : "?",
                   n["zone"].IsString() ? n["zone"].GetString() : "-", node_status, phi,
                   std::to_string(n["pending_hints"].GetUint64()), n["role"].GetString()});
  }
  table.print();
  // The change of owners under way, if any: its transfers' progress (`minidynamo admin transfers`).
  if (doc["changing"].GetBool()) {
    const Tally all = tally(doc);
    std::printf("owners changing (ring version %lu): %zu of %zu partition transfers done, %lu keys moved\n",
                doc["ring_version"].GetUint64(), all.done, all.total, all.keys);
  }
  std::printf("tombstones: %lu held here, waiting to be reaped (new dots are numbered above %lu)\n",
              doc["tombstones"].GetUint64(), doc["dot_floor"].GetUint64());
  std::printf("counters:");
  for (const auto& c : doc["counters"].GetObject()) std::printf(" %s=%lu", c.name.GetString(), c.value.GetUint64());
  std::printf("\n");
  return kOk;
}

// Prints every key with the prefix, one per line in order, paging through GET /kv.
int keys(const ClientOptions& o, const std::string& prefix, uint32_t page_size) {
  auto client = client_for(o);
  if (!client) return kUsage;
  std::string cursor;
  while (true) {
    std::string target = "/kv?prefix=" + net::url_encode_path_segment(prefix) + "&limit=" + std::to_string(page_size);
    if (o.n) target += "&N=" + std::to_string(*o.n);
    if (!cursor.empty()) target += "&cursor=" + cursor;
    auto result = client->request(boost::beast::http::verb::get, target, "");
    if (!result.is_ok()) {
      std::cerr << "error: " << result.status().message() << "\n";
      return kError;
    }
    rapidjson::Document doc;
    doc.Parse(result->body.c_str());
    if (result->status != 200 || doc.HasParseError() || !doc.IsObject() || !doc.HasMember("keys") ||
        !doc["keys"].IsArray()) {
      return print_response(result);  // the error, as every command prints it
    }
    for (const auto& key : doc["keys"].GetArray()) {
      std::cout.write(key.GetString(), key.GetStringLength());
      std::cout << "\n";
    }
    if (!doc.HasMember("cursor") || !doc["cursor"].IsString()) return kOk;
    cursor = doc["cursor"].GetString();
  }
}

}  // namespace

std::optional<std::pair<std::string, uint16_t>> parse_address(const std::string& node) {
  auto colon = node.rfind(':');
  int port = 0;
  if (colon != std::string::npos) {
    try {
      port = std::stoi(node.substr(colon + 1));
    } catch (const std::exception&) {
    }
  }
  if (port <= 0 || port > 65535) return std::nullopt;
  return std::pair{node.substr(0, colon), static_cast<uint16_t>(port)};
}

void add_client_commands(CLI::App& app) {
  auto o = std::make_shared<ClientOptions>();
  auto* cmd = app.add_subcommand("status", "Show how a node sees the cluster: each node's status, the hints kept for it, and the counters");
  add_connection_options(cmd, *o);
  exit_with(cmd, [o] { return status(*o); });
  add_verb(app, "get", "Read a key: prints its value, or each sibling with its clock, and the context",
           boost::beast::http::verb::get);
  add_verb(app, "put", "Write a key", boost::beast::http::verb::put);
  add_verb(app, "delete", "Delete a key", boost::beast::http::verb::delete_);

  auto list = std::make_shared<ClientOptions>();
  auto prefix = std::make_shared<std::string>();
  auto page_size = std::make_shared<uint32_t>(1000);
  cmd = app.add_subcommand("keys", "List the cluster's keys that start with a prefix, one per line in order");
  cmd->add_option("--prefix", *prefix, "Only keys that start with this (default: every key)");
  cmd->add_option("--page-size", *page_size, "Keys asked for per request")
      ->check(CLI::Range(1u, core::kListLimitMax))
      ->capture_default_str();
  cmd->add_option("--n", list->n, "Replicas N the keys were written with");
  add_connection_options(cmd, *list);
  exit_with(cmd, [list, prefix, page_size] { return keys(*list, *prefix, *page_size); });
}

}  // namespace md::cli
