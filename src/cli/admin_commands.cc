#include "cli/admin_commands.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/node_client.h"
#include "cli/table.h"
#include "net/http_client.h"

namespace md::cli {
namespace {

namespace http = boost::beast::http;
using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

enum Exit { kOk = 0, kError = 1, kUsage = 2 };  // 2 as main's usage errors

constexpr auto kPollInterval = std::chrono::milliseconds(250);

struct AdminOptions : NodeConnection {
  bool json = false;
  std::string member;       // join ADDRESS, leave [NODE], remove NODE, replace OLD
  std::string replacement;  // replace NEW
  bool wait = false;        // join, leave, remove, replace
  uint32_t wait_timeout_s = 600;
  bool partitions = false;            // ring --partitions
  std::optional<uint32_t> partition;  // repair --partition
};

std::string string_of(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : "-"; }

void print_json(const std::function<void(JsonWriter&)>& write) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  write(w);
  std::cout << std::string_view(buffer.GetString(), buffer.GetSize()) << "\n";
}

// The members in /ring's order (a member's index), each at the address it is at now: /ring names
// members by the address they joined with, /cluster lists them in the same order where they are.
struct Members {
  std::vector<std::string> addresses;
  std::vector<std::string> roles;
  std::map<std::string, size_t> index_by_name;
};

// How the node asked sees the membership. /ring is asked first: /cluster then lists every member
// /ring has (members are only ever added).
struct View {
  JsonAnswer ring;
  JsonAnswer cluster;
  Members members;
};

std::optional<View> view_of(net::HttpClient& client) {
  auto ring = request_json(client, http::verb::get, "/ring");
  if (!ring) return std::nullopt;
  auto cluster = request_json(client, http::verb::get, "/cluster");
  if (!cluster) return std::nullopt;
  Members members;
  const auto& nodes = cluster->doc["nodes"];
  for (const auto& name : ring->doc["members"].GetArray()) {
    const auto& node = nodes[static_cast<rapidjson::SizeType>(members.addresses.size())];
    members.index_by_name.emplace(name.GetString(), members.addresses.size());
    members.addresses.push_back(node["address"].GetString());
    members.roles.push_back(node["role"].GetString());
  }
  return View{std::move(*ring), std::move(*cluster), std::move(members)};
}

// A member's share of the partitions under one set of owners.
struct Share {
  std::vector<uint32_t> owned;  // it is the first of their preference lists
  uint32_t replicated = 0;      // it is in their preference lists
};

// Per member, its share under `lists`: /ring's "owners" or "next_owners".
std::vector<Share> shares_of(const Members& members, const rapidjson::Value& lists) {
  std::vector<Share> shares(members.addresses.size());
  for (const auto& p : lists.GetArray()) {
    const auto& list = p["preference_list"];
    for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
      Share& share = shares[members.index_by_name.at(list[i].GetString())];
      if (i == 0) share.owned.push_back(p["partition"].GetUint());
      ++share.replicated;
    }
  }
  return shares;
}

// Partitions in order as ranges: "0-2,5,9-11".
std::string ranges(const std::vector<uint32_t>& partitions) {
  std::string out;
  for (size_t first = 0; first < partitions.size();) {
    size_t last = first;
    while (last + 1 < partitions.size() && partitions[last + 1] == partitions[last] + 1) ++last;
    if (!out.empty()) out += ",";
    out += std::to_string(partitions[first]);
    if (last > first) out += "-" + std::to_string(partitions[last]);
    first = last + 1;
  }
  return out.empty() ? "-" : out;
}

std::string progress(const Tally& t) {
  return std::to_string(t.done) + " of " + std::to_string(t.total) + " transfers done, " + std::to_string(t.keys) +
         " keys moved";
}

const rapidjson::Value* find_node(const rapidjson::Value& cluster, const std::string& address) {
  for (const auto& n : cluster["nodes"].GetArray()) {
    if (address == n["address"].GetString()) return &n;
  }
  return nullptr;
}

std::string ring_version(const rapidjson::Value& cluster) {
  return "ring version " + std::to_string(cluster["ring_version"].GetUint64());
}

int status(const AdminOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  auto view = view_of(*client);
  if (!view) return kError;
  const auto& c = view->cluster.doc;
  const auto shares = shares_of(view->members, view->ring.doc["owners"]);
  const auto& nodes = c["nodes"].GetArray();
  if (o.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      for (const char* name : {"address", "ring_version", "claimant", "changing", "joining"}) {
        w.Key(name);
        c[name].Accept(w);
      }
      w.Key("nodes");
      w.StartArray();
      for (rapidjson::SizeType m = 0; m < nodes.Size(); ++m) {
        w.StartObject();
        for (const char* name : {"address", "self", "role", "status", "zone", "pending_hints"}) {
          w.Key(name);
          nodes[m][name].Accept(w);
        }
        w.Key("partitions");
        w.Uint(m < shares.size() ? static_cast<unsigned>(shares[m].owned.size()) : 0);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    });
    return kOk;
  }
  std::printf("%s sees %s, claimant %s; owners %s\n", c["address"].GetString(), ring_version(c).c_str(),
              c["claimant"].GetString(),
              c["changing"].GetBool() ? "changing: transfers under way (minidynamo admin transfers)" : "settled");
  // PARTITIONS: those it owns now (it is the first of their preference lists); HINTS: writes the
  // node asked keeps for it, to hand off.
  Table table({{"ADDRESS"}, {"ROLE"}, {"STATUS"}, {"ZONE"}, {"PARTITIONS", true}, {"HINTS", true}}, "  ");
  for (rapidjson::SizeType m = 0; m < nodes.Size(); ++m) {
    const auto& n = nodes[m];
    table.add_row({n["address"].GetString(), n["role"].GetString(), n["self"].GetBool() ? "self" : n["status"].GetString(),
                   string_of(n["zone"]), std::to_string(m < shares.size() ? shares[m].owned.size() : 0),
                   std::to_string(n["pending_hints"].GetUint64())});
  }
  table.print();
  std::string joining;
  for (const auto& address : c["joining"].GetArray()) joining += (joining.empty() ? "" : ", ") + std::string(address.GetString());
  if (!joining.empty()) std::printf("announced, to be admitted by the claimant: %s\n", joining.c_str());
  return kOk;
}

// The share of each member that has not departed, under one set of owners (`lists`).
void print_shares(const View& view, const rapidjson::Value& lists) {
  const auto shares = shares_of(view.members, lists);
  Table table({{"ADDRESS"}, {"ROLE"}, {"OWNS", true}, {"REPLICATES", true}, {"PARTITIONS OWNED"}}, "  ");
  for (size_t m = 0; m < shares.size(); ++m) {
    if (view.members.roles[m] == "departed") continue;
    table.add_row({view.members.addresses[m], view.members.roles[m], std::to_string(shares[m].owned.size()),
                   std::to_string(shares[m].replicated), ranges(shares[m].owned)});
  }
  table.print();
}

void write_shares(JsonWriter& w, const View& view, const rapidjson::Value& lists) {
  const auto shares = shares_of(view.members, lists);
  w.StartArray();
  for (size_t m = 0; m < shares.size(); ++m) {
    if (view.members.roles[m] == "departed") continue;
    w.StartObject();
    w.Key("address");
    w.String(view.members.addresses[m].c_str());
    w.Key("owns");
    w.StartArray();
    for (uint32_t p : shares[m].owned) w.Uint(p);
    w.EndArray();
    w.Key("replicates");
    w.Uint(shares[m].replicated);
    w.EndObject();
  }
  w.EndArray();
}

// A preference list at the members' addresses now, separated by commas.
std::string addresses_of(const Members& members, const rapidjson::Value& list) {
  std::string out;
  for (const auto& name : list.GetArray()) {
    out += (out.empty() ? "" : ",") + members.addresses[members.index_by_name.at(name.GetString())];
  }
  return out;
}

int ring(const AdminOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  auto view = view_of(*client);
  if (!view) return kError;
  const auto& r = view->ring.doc;
  const auto& next = r["next_owners"];
  const bool changing = next.IsArray();
  if (o.partitions && o.json) {
    std::cout << view->ring.body << "\n";
  } else if (o.partitions) {
    std::vector<Table::Column> columns{{"PARTITION", true}, {"PREFERENCE LIST"}};
    if (changing) columns.push_back({"NEXT PREFERENCE LIST"});
    Table table(std::move(columns));
    for (const auto& p : r["owners"].GetArray()) {
      std::vector<std::string> row{std::to_string(p["partition"].GetUint()), addresses_of(view->members, p["preference_list"])};
      if (changing) row.push_back(addresses_of(view->members, next[p["partition"].GetUint()]["preference_list"]));
      table.add_row(std::move(row));
    }
    table.print();
  } else if (o.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      w.Key("ring_version");
      view->cluster.doc["ring_version"].Accept(w);
      w.Key("partitions");
      r["partitions"].Accept(w);
      w.Key("owners");
      write_shares(w, *view, r["owners"]);
      w.Key("next_owners");
      if (changing) {
        write_shares(w, *view, next);
      } else {
        w.Null();
      }
      w.EndObject();
    });
  } else {
    std::printf("owners now (%s, %u partitions):\n", ring_version(view->cluster.doc).c_str(), r["partitions"].GetUint());
    print_shares(*view, r["owners"]);
    if (changing) {
      std::printf("next owners, serving once every transfer is done (minidynamo admin transfers):\n");
      print_shares(*view, next);
    }
  }
  return kOk;
}

// What a poll of /cluster found: a line to show, and whether the wait is over.
struct Check {
  std::string line;
  bool done = false;
};

// Asks the node for /cluster until `check` says done, printing each line it gives that differs
// from the one before (unless `quiet`). Returns the last /cluster, or nullopt after saying what is
// wrong (the node could not be asked, `timeout_s` passed).
std::optional<JsonAnswer> wait_for(net::HttpClient& client, uint32_t timeout_s, bool quiet,
                                   const std::function<Check(const rapidjson::Value&)>& check) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string shown;
  while (true) {
    auto cluster = request_json(client, http::verb::get, "/cluster");
    if (!cluster) return std::nullopt;
    Check now = check(cluster->doc);
    if (!quiet && now.line != shown) std::cout << now.line << std::endl;  // flushed: progress, as it comes
    shown = now.line;
    if (now.done) return cluster;
    if (std::chrono::steady_clock::now() >= deadline) {
      std::cerr << "error: still waiting after " << timeout_s << " s (--timeout-s): " << now.line << "\n";
      return std::nullopt;
    }
    std::this_thread::sleep_for(kPollInterval);
  }
}

// Where `address` is in joining: "unknown", "announced" (the claimant has yet to admit it), or its
// role as a member (joining: receiving its partitions; serving).
std::string join_state(const rapidjson::Value& cluster, const std::string& address) {
  for (const auto& announced : cluster["joining"].GetArray()) {
    if (address == announced.GetString()) return "announced";
  }
  const auto* node = find_node(cluster, address);
  return node ? (*node)["role"].GetString() : "unknown";
}

Check join_check(const rapidjson::Value& c, const std::string& address) {
  const std::string state = join_state(c, address);
  const bool changing = c["changing"].GetBool();
  if (state == "unknown") {
    return {address + " is not known to " + c["address"].GetString() +
            " yet: a node asks to join by itself, so start it with `minidynamo node --join " + c["address"].GetString() +
            "`"};
  }
  if (state == "announced") {
    return {address + " is announced: the claimant " + c["claimant"].GetString() + " admits it in its next ring version"};
  }
  if (state == "joining") {
    return {address + " is a member, joining (" + ring_version(c) + "): " + progress(tally(c, address)) + " to it"};
  }
  if (state == "serving") {
    return {address + " serves (" + ring_version(c) + ")" + (changing ? "; the owners are still changing" : ""),
            !changing};
  }
  return {address + " is a member, " + state + " (" + ring_version(c) + ")"};
}

int join(const AdminOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  const auto check = [&](const rapidjson::Value& c) { return join_check(c, o.member); };
  std::optional<JsonAnswer> cluster;
  if (o.wait) {
    cluster = wait_for(*client, o.wait_timeout_s, o.json, check);
    if (!cluster) return kError;
  } else {
    cluster = request_json(*client, http::verb::get, "/cluster");
    if (!cluster) return kError;
    if (join_state(cluster->doc, o.member) == "unknown") {
      std::cerr << "error: " << check(cluster->doc).line << "\n";
      return kError;
    }
    if (!o.json) std::cout << check(cluster->doc).line << "\n";
  }
  if (o.json) {
    const auto& c = cluster->doc;
    const Tally to_it = tally(c, o.member);
    print_json([&](JsonWriter& w) {
      w.StartObject();
      w.Key("address");
      w.String(o.member.c_str());
      w.Key("state");
      w.String(join_state(c, o.member).c_str());
      for (const char* name : {"ring_version", "changing"}) {
        w.Key(name);
        c[name].Accept(w);
      }
      w.Key("transfers_to_it");
      w.StartObject();
      w.Key("done");
      w.Uint64(to_it.done);
      w.Key("total");
      w.Uint64(to_it.total);
      w.Key("keys");
      w.Uint64(to_it.keys);
      w.EndObject();
      w.EndObject();
    });
  }
  return kOk;
}

Check departure_check(const rapidjson::Value& c, const std::string& departing) {
  const auto* node = find_node(c, departing);
  if (!node) return {departing + " is not a member as " + c["address"].GetString() + " sees it"};
  const std::string role = (*node)["role"].GetString();
  if (role == "departed") {
    return {departing + " has departed (" + ring_version(c) + "): it owns no partitions (a departed node stops by itself)",
            true};
  }
  std::string line = departing + " is " + role + " (" + ring_version(c) + "): ";
  const Tally all = tally(c);
  if (all.total > 0) return {line + progress(all)};
  for (const auto& d : c["departures"].GetArray()) {
    if (departing == d["node"].GetString() && d["replacement"].IsString() && !find_node(c, d["replacement"].GetString())) {
      return {line + "waiting for " + d["replacement"].GetString() + " to be started with --join " +
              c["address"].GetString()};
    }
  }
  return {line + "waiting for the claimant " + c["claimant"].GetString() + " to plan it"};
}

// The node to watch a departure from: the node asked, unless it is the one departing (it stops
// once departed); then another member that serves and that it reaches, asked with the same TLS
// and credentials. nullopt after saying there is none.
std::optional<NodeConnection> watcher_for(const AdminOptions& o, const rapidjson::Value& cluster,
                                          const std::string& departing) {
  if (departing != cluster["address"].GetString()) return o;
  for (const auto& n : cluster["nodes"].GetArray()) {
    if (!n["self"].GetBool() && n["reachable"].GetBool() && std::string_view(n["role"].GetString()) == "serving") {
      NodeConnection watcher = o;
      watcher.node = n["address"].GetString();
      return watcher;
    }
  }
  std::cerr << "error: " << departing << " reaches no other member that serves, to watch its departure from\n";
  return std::nullopt;
}

// leave, remove or replace: asks the node, then with --wait watches until the member has departed.
int depart(const AdminOptions& o, const std::string& action) {
  auto client = client_for(o);
  if (!client) return kUsage;
  auto before = request_json(*client, http::verb::get, "/cluster");  // while the node asked still answers
  if (!before) return kError;
  const auto& c = before->doc;
  const std::string departing = o.member.empty() ? c["address"].GetString() : o.member;
  std::string body;
  if (!o.member.empty()) {
    body = "{\"node\":" + json_string(o.member) +
           (o.replacement.empty() ? "" : ",\"replacement\":" + json_string(o.replacement)) + "}";
  }
  auto answer = request_json(*client, http::verb::post, "/admin/" + action, body);
  if (!answer) return kError;
  if (o.json) {
    std::cout << answer->body << "\n";
  } else {
    std::cout << action << " of " << answer->doc["node"].GetString() << " asked: the claimant " << c["claimant"].GetString()
              << " plans it (watch its partitions move with `minidynamo admin transfers`)\n";
    if (!o.replacement.empty()) {
      std::cout << "now start " << o.replacement << " with `minidynamo node --join " << c["address"].GetString()
                << "`: it takes exactly " << departing << "'s partitions\n";
    }
  }
  if (!o.wait) return kOk;
  auto watcher = watcher_for(o, c, departing);
  if (!watcher) return kError;
  auto watch = client_for(*watcher);
  if (!watch) return kUsage;
  const auto departed = wait_for(*watch, o.wait_timeout_s, o.json,
                                 [&](const rapidjson::Value& now) { return departure_check(now, departing); });
  return departed ? kOk : kError;
}

int transfers(const AdminOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  auto cluster = request_json(*client, http::verb::get, "/cluster");
  if (!cluster) return kError;
  const auto& c = cluster->doc;
  const Tally all = tally(c);
  const auto& counters = c["counters"];
  if (o.json) {
    print_json([&](JsonWriter& w) {
      w.StartObject();
      for (const char* name : {"address", "ring_version", "changing", "transfers"}) {
        w.Key(name);
        c[name].Accept(w);
      }
      w.Key("done");
      w.Uint64(all.done);
      w.Key("total");
      w.Uint64(all.total);
      w.Key("keys");
      w.Uint64(all.keys);
      w.Key("counters");  // of the node asked, since it started
      w.StartObject();
      for (const char* name : {"transfers_done", "transfer_keys_sent", "transfer_keys_received"}) {
        w.Key(name);
        counters[name].Accept(w);
      }
      w.EndObject();
      w.EndObject();
    });
    return kOk;
  }
  if (all.total == 0) {
    std::printf("no transfers under way: the owners are %s (%s)\n",
                c["changing"].GetBool() ? "changing, with no data to move" : "settled", ring_version(c).c_str());
  } else {
    Table table({{"PARTITION", true}, {"FROM"}, {"TO"}, {"KEYS", true}, {"DONE"}}, "  ");
    for (const auto& t : c["transfers"].GetArray()) {
      table.add_row({std::to_string(t["partition"].GetUint()), t["from"].GetString(), t["to"].GetString(),
                     std::to_string(t["keys"].GetUint64()), t["done"].GetBool() ? "yes" : "no"});
    }
    table.print();
    std::printf("%s (%s)\n", progress(all).c_str(), ring_version(c).c_str());
  }
  std::printf("%s since it started: %lu transfers done as their source, %lu keys sent, %lu keys received\n",
              c["address"].GetString(), counters["transfers_done"].GetUint64(),
              counters["transfer_keys_sent"].GetUint64(), counters["transfer_keys_received"].GetUint64());
  return kOk;
}

int repair(const AdminOptions& o) {
  auto client = client_for(o);
  if (!client) return kUsage;
  const std::string body = o.partition ? "{\"partition\":" + std::to_string(*o.partition) + "}" : "";
  auto answer = request_json(*client, http::verb::post, "/admin/repair", body);
  if (!answer) return kError;
  if (o.json) {
    std::cout << answer->body << "\n";
  } else {
    const std::string which = o.partition ? "partition " + std::to_string(*o.partition) : "every partition it replicates";
    const uint64_t exchanges = answer->doc["exchanges"].GetUint64();
    std::printf("%lu anti-entropy %s queued on %s, for %s: each compares the partition's tree with another "
                "replica's and sends what differs\n",
                exchanges, exchanges == 1 ? "exchange" : "exchanges", o.node.c_str(), which.c_str());
  }
  return kOk;
}

}  // namespace

Tally tally(const rapidjson::Value& cluster, const std::string& only_to) {
  Tally t;
  for (const auto& transfer : cluster["transfers"].GetArray()) {
    if (!only_to.empty() && only_to != transfer["to"].GetString()) continue;
    ++t.total;
    t.done += transfer["done"].GetBool();
    t.keys += transfer["keys"].GetUint64();
  }
  return t;
}

void add_admin_commands(CLI::App& app) {
  auto* admin = app.add_subcommand(
      "admin", "Watch and change the membership: status, ring, join, leave, remove, replace, transfers, repair "
               "(with --security on: needs the admin grant)");
  admin->require_subcommand(1);
  auto o = std::make_shared<AdminOptions>();
  auto add = [&](const char* name, const char* help, const char* json_help, std::function<int()> body) {
    auto* cmd = admin->add_subcommand(name, help);
    cmd->add_flag("--json", o->json, json_help);
    add_connection_options(cmd, *o);
    exit_with(cmd, std::move(body));
    return cmd;
  };
  auto add_wait = [&](CLI::App* cmd, const char* until) {
    cmd->add_flag("--wait", o->wait, until);
    cmd->add_option("--timeout-s", o->wait_timeout_s, "With --wait: stop waiting after this long, and exit 1")
        ->capture_default_str();
  };
  constexpr const char* kShownAsJson = "Print what the table shows as JSON";
  constexpr const char* kAnswerAsJson = "Print the node's JSON answer";

  add("status", "The cluster as the node sees it: ring version, claimant, and each member's role, status and "
                "partitions owned",
      kShownAsJson, [o] { return status(*o); });

  auto* cmd = add("ring", "Per member, the partitions it owns and how many it replicates, now and (while the owners "
                          "change) next",
                  "Print what the tables show as JSON; with --partitions, GET /ring as it came", [o] { return ring(*o); });
  cmd->add_flag("--partitions", o->partitions, "Print each partition's preference list instead");

  cmd = add("join", "Report how far a node is in joining: announced, a member receiving its partitions, or serving. "
                    "The node asks to join by itself, started with `minidynamo node --join ANY_MEMBER`",
            kShownAsJson, [o] { return join(*o); });
  cmd->add_option("address", o->member, "The new node's address, host:port")->required();
  add_wait(cmd, "Wait until it serves and the owners stop changing (it may be started after this)");

  cmd = add("leave", "Ask a member to leave: it hands its partitions to their next owners, then stops by itself",
            kAnswerAsJson, [o] { return depart(*o, "leave"); });
  cmd->add_option("member", o->member, "The member that leaves, host:port (default: the node --node names)");
  add_wait(cmd, "Wait until it has departed");

  cmd = add("remove", "Remove a member that is gone for good: the other replicas rebuild its partitions",
            kAnswerAsJson, [o] { return depart(*o, "remove"); });
  cmd->add_option("member", o->member, "The member to remove, host:port")->required();
  add_wait(cmd, "Wait until it has departed");

  cmd = add("replace", "Replace a member by a new node that takes exactly its partitions: ask first, then start the new "
                       "node with --join",
            kAnswerAsJson, [o] { return depart(*o, "replace"); });
  cmd->add_option("member", o->member, "The member replaced, host:port")->required();
  cmd->add_option("replacement", o->replacement, "The new node's address, host:port (not started yet)")->required();
  add_wait(cmd, "Wait until the replaced member has departed (the new node must be started meanwhile)");

  add("transfers", "The partition transfers of the change of owners under way, and the node's transfer counters",
      kShownAsJson, [o] { return transfers(*o); });

  cmd = add("repair", "Queue anti-entropy exchanges for one partition, or every partition the node replicates",
            kAnswerAsJson, [o] { return repair(*o); });
  cmd->add_option("--partition", o->partition, "Only this partition (admin ring --partitions lists them)");
}

}  // namespace md::cli
