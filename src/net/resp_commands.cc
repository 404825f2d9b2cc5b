#include "net/resp_commands.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <tuple>

#include "net/json_bytes.h"

namespace md::net::resp {
namespace {

using core::ClientRequest;
using core::ClientResponse;
using core::Op;
using core::Outcome;
using Args = std::vector<std::string>;

struct Context {
  const Args& args;
  Session& session;
  const CommandLimits& limits;
  const InfoFn& info;
};

// A reply built by `write` in the session's protocol version.
template <class Write>
Step answer(Version version, Write&& write) {
  Step step;
  ReplyWriter w(&step.reply, version);
  write(w);
  return step;
}
Step error(std::string_view text) {
  return answer(Version::resp2, [&](ReplyWriter& w) { w.error(text); });
}
Step ok() {
  return answer(Version::resp2, [](ReplyWriter& w) { w.simple("OK"); });
}
Step syntax_error() { return error("ERR syntax error"); }

std::string upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}
std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool parse_int(std::string_view text, int64_t* n) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *n);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// The error a failed core answer becomes. Its code (the first word) tells clients what kind it is.
std::string failure(const ClientResponse& r) {
  switch (r.outcome) {
    case Outcome::unavailable:
      return "UNAVAILABLE " + r.message +
             (r.required > 0 ? " (required " + std::to_string(r.required) + ", acknowledged " +
                                   std::to_string(r.acknowledged) + ")"
                             : "");
    case Outcome::too_many_siblings: return "TOOMANYSIBLINGS " + r.message;
    case Outcome::internal_error: return "ERR internal error: " + r.message;
    case Outcome::unauthenticated: return "NOAUTH " + r.message;  // Redis's codes, which clients know
    case Outcome::forbidden: return "NOPERM " + r.message;
    default: return "ERR " + r.message;
  }
}
bool failed(const ClientResponse& r) { return r.outcome != Outcome::ok && r.outcome != Outcome::not_found; }
bool found(const ClientResponse& r) { return r.outcome == Outcome::ok && !r.siblings.empty(); }
// The first failed answer's error, if any.
std::optional<std::string> first_failure(const std::vector<ClientResponse>& responses) {
  for (const auto& r : responses) {
    if (failed(r)) return failure(r);
  }
  return std::nullopt;
}

std::optional<std::string> check_key(std::string_view key, const CommandLimits& limits) {
  if (key.empty()) return "ERR the key must not be empty";
  if (key.size() > limits.key_bytes_max) {
    return "ERR the key is " + std::to_string(key.size()) + " bytes; the limit is " + std::to_string(limits.key_bytes_max);
  }
  return std::nullopt;
}
std::optional<std::string> check_keys(const Context& c, size_t from, size_t stride) {
  const size_t keys = (c.args.size() - from + stride - 1) / stride;
  if (keys > c.limits.keys_per_command_max) {
    return "ERR " + lower(c.args[0]) + " takes at most " + std::to_string(c.limits.keys_per_command_max) +
           " keys at once, got " + std::to_string(keys) + ": split it into several commands";
  }
  for (size_t i = from; i < c.args.size(); i += stride) {
    if (auto e = check_key(c.args[i], c.limits)) return e;
  }
  return std::nullopt;
}

ClientRequest request(Op op, std::string key, const Session& session) {
  ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  r.n = session.n;
  r.r = session.r;
  r.w = session.w;
  return r;
}

// A put of `value` as its JSON string; an error when that is over the value limit.
std::optional<std::string> put_value(ClientRequest* r, std::string_view value, const CommandLimits& limits) {
  r->value = bytes_to_json(value);
  if (r->value.size() > limits.value_bytes_max) {
    return "ERR the value is " + std::to_string(r->value.size()) + " bytes as JSON; the limit is " +
           std::to_string(limits.value_bytes_max);
  }
  return std::nullopt;
}

// GET's answer for one key: its value, nil, or the error that says why neither.
void write_value(ReplyWriter& w, const ClientResponse& r) {
  if (!found(r) && !failed(r)) return w.null();
  if (failed(r)) return w.error(failure(r));
  if (r.siblings.size() > 1) {
    return w.error("CONFLICT " + std::to_string(r.siblings.size()) + " siblings, read them with DGET");
  }
  w.bulk(json_to_bytes(r.siblings[0].value));
}

Step cmd_get(const Context& c) {
  if (auto e = check_key(c.args[1], c.limits)) return error(*e);
  Step step;
  step.requests.push_back(request(Op::get, c.args[1], c.session));
  step.then = [v = c.session.version](std::vector<ClientResponse> r) {
    return answer(v, [&](ReplyWriter& w) { write_value(w, r[0]); });
  };
  return step;
}

Step cmd_mget(const Context& c) {
  if (auto e = check_keys(c, 1, 1)) return error(*e);
  Step step;
  for (size_t i = 1; i < c.args.size(); ++i) step.requests.push_back(request(Op::get, c.args[i], c.session));
  step.then = [v = c.session.version](std::vector<ClientResponse> rs) {
    // A key with siblings is an error in its place (as Redis puts errors in arrays); a failed
    // read fails the whole command, since its nil would claim the key is absent.
    for (const auto& r : rs) {
      if (failed(r)) return error(failure(r));
    }
    return answer(v, [&](ReplyWriter& w) {
      w.array(rs.size());
      for (const auto& r : rs) write_value(w, r);
    });
  };
  return step;
}

Step cmd_exists(const Context& c) {
  if (auto e = check_keys(c, 1, 1)) return error(*e);
  Step step;
  for (size_t i = 1; i < c.args.size(); ++i) step.requests.push_back(request(Op::get, c.args[i], c.session));
  step.then = [](std::vector<ClientResponse> rs) {
    if (auto e = first_failure(rs)) return error(*e);
    return answer(Version::resp2, [&](ReplyWriter& w) { w.integer(std::count_if(rs.begin(), rs.end(), found)); });
  };
  return step;
}

// DEL answers how many of the keys existed, so it reads them first, then deletes those it found
// with their read's context (exactly what was read is deleted; a concurrent write survives).
Step cmd_del(const Context& c) {
  if (auto e = check_keys(c, 1, 1)) return error(*e);
  std::vector<std::string> keys;  // each once: DEL a a deletes one key
  std::set<std::string_view> seen;
  for (size_t i = 1; i < c.args.size(); ++i) {
    if (seen.insert(c.args[i]).second) keys.push_back(c.args[i]);
  }
  Step step;
  for (const auto& key : keys) step.requests.push_back(request(Op::get, key, c.session));
  step.then = [keys, session = c.session](std::vector<ClientResponse> reads) {
    if (auto e = first_failure(reads)) return error(*e);
    Step deletes;
    for (size_t i = 0; i < reads.size(); ++i) {
      if (!found(reads[i])) continue;
      deletes.requests.push_back(request(Op::del, keys[i], session));
      deletes.requests.back().context_token = std::move(reads[i].context_token);
    }
    if (deletes.requests.empty()) return answer(Version::resp2, [](ReplyWriter& w) { w.integer(0); });
    deletes.then = [](std::vector<ClientResponse> rs) {
      if (auto e = first_failure(rs)) return error(*e);
      return answer(Version::resp2, [&](ReplyWriter& w) { w.integer(static_cast<int64_t>(rs.size())); });
    };
    return deletes;
  };
  return step;
}

Step all_ok(std::vector<ClientResponse> rs) {
  if (auto e = first_failure(rs)) return error(*e);
  return ok();
}

Step cmd_set(const Context& c) {
  if (auto e = check_key(c.args[1], c.limits)) return error(*e);
  for (size_t i = 3; i < c.args.size(); ++i) {
    const std::string option = upper(c.args[i]);
    if (option == "EX" || option == "PX" || option == "EXAT" || option == "PXAT") {
      return error("ERR SET " + option + " is not supported: Mini Dynamo keeps no expiry, keys live until deleted");
    }
    if (option == "NX" || option == "XX" || option == "GET") {
      return error("ERR SET " + option +
                   " is not supported: a leaderless store cannot read and write a key atomically; "
                   "read it with DGET and write with DSET and the context it gave");
    }
    if (option != "KEEPTTL") return syntax_error();  // KEEPTTL keeps no expiry: there is none
  }
  Step step;
  step.requests.push_back(request(Op::put, c.args[1], c.session));
  step.requests.back().supersede = true;  // repeated SETs replace, never pile up siblings
  if (auto e = put_value(&step.requests.back(), c.args[2], c.limits)) return error(*e);
  step.then = all_ok;
  return step;
}

Step cmd_mset(const Context& c) {
  if (c.args.size() % 2 == 0) return error("ERR wrong number of arguments for 'mset' command");
  if (auto e = check_keys(c, 1, 2)) return error(*e);
  std::map<std::string_view, std::string_view> last;  // a key given twice gets its last value, as in Redis
  for (size_t i = 1; i < c.args.size(); i += 2) last[c.args[i]] = c.args[i + 1];
  Step step;
  for (const auto& [key, value] : last) {
    step.requests.push_back(request(Op::put, std::string(key), c.session));
    step.requests.back().supersede = true;
    if (auto e = put_value(&step.requests.back(), value, c.limits)) return error(*e);
  }
  step.then = all_ok;
  return step;
}

// SCAN cursor [MATCH prefix*] [COUNT n] [TYPE string]: a page of the cluster's keys in order.
Step cmd_scan(const Context& c) {
  ClientRequest r = request(Op::list, "", c.session);
  r.limit = 10;  // Redis's default COUNT
  if (c.args[1] != "0") {
    auto key = decode_scan_cursor(c.args[1]);
    if (!key) {
      return error("ERR invalid cursor '" + c.args[1].substr(0, 64) +
                   "': pass back the cursor the previous SCAN answered, or 0 to start");
    }
    r.cursor = std::move(*key);
  }
  for (size_t i = 2; i < c.args.size(); i += 2) {
    if (i + 1 >= c.args.size()) return syntax_error();
    const std::string option = upper(c.args[i]);
    const std::string& value = c.args[i + 1];
    if (option == "MATCH") {
      const size_t special = value.find_first_of("*?[\\");
      if (value.empty() || special != value.size() - 1 || value.back() != '*') {
        return error("ERR MATCH '" + value.substr(0, 128) +
                     "' is not supported: only a literal prefix followed by one '*' (e.g. user:*)");
      }
      r.key = value.substr(0, value.size() - 1);
    } else if (option == "COUNT") {
      int64_t count = 0;
      if (!parse_int(value, &count) || count < 1) return error("ERR COUNT must be a positive integer, got '" + value + "'");
      r.limit = static_cast<uint32_t>(std::min<int64_t>(count, core::kListLimitMax));
    } else if (option == "TYPE") {
      if (lower(value) != "string") return error("ERR TYPE " + value + ": every key here holds a string");
    } else {
      return syntax_error();
    }
  }
  Step step;
  step.requests.push_back(std::move(r));
  step.then = [v = c.session.version](std::vector<ClientResponse> rs) {
    if (failed(rs[0])) return error(failure(rs[0]));
    return answer(v, [&](ReplyWriter& w) {
      w.array(2);
      w.bulk(rs[0].next_cursor ? encode_scan_cursor(*rs[0].next_cursor) : "0");
      w.array(rs[0].keys.size());
      for (const auto& key : rs[0].keys) w.bulk(key);
    });
  };
  return step;
}

// Options `name n` after the command's fixed arguments into the request's quorum.
std::optional<std::string> quorum_options(const Context& c, size_t from, std::string_view allowed, ClientRequest* r) {
  for (size_t i = from; i < c.args.size(); i += 2) {
    const std::string option = upper(c.args[i]);
    if (option.size() != 1 || allowed.find(option[0]) == std::string_view::npos || i + 1 >= c.args.size()) {
      return "ERR syntax error: " + lower(c.args[0]) + " takes " + std::string(allowed) + " options, each with a number";
    }
    int64_t n = 0;
    if (!parse_int(c.args[i + 1], &n)) return "ERR " + option + " must be an integer, got '" + c.args[i + 1] + "'";
    (option == "N" ? r->n : option == "R" ? r->r : r->w) = n;
  }
  return std::nullopt;
}

// DGET key [R n] [N n]: the context and every sibling with its vector clock.
Step cmd_dget(const Context& c) {
  if (auto e = check_key(c.args[1], c.limits)) return error(*e);
  Step step;
  step.requests.push_back(request(Op::get, c.args[1], c.session));
  if (auto e = quorum_options(c, 2, "RN", &step.requests.back())) return error(*e);
  step.then = [v = c.session.version](std::vector<ClientResponse> rs) {
    const ClientResponse& r = rs[0];
    if (failed(r)) return error(failure(r));
    return answer(v, [&](ReplyWriter& w) {
      if (!found(r)) return w.null();
      w.map(2);
      w.bulk("context");
      w.bulk(r.context_token);
      w.bulk("siblings");
      w.array(r.siblings.size());
      for (const auto& s : r.siblings) {
        w.map(2);
        w.bulk("value");
        w.bulk(json_to_bytes(s.value));
        w.bulk("vector_clock");
        const auto clock = s.clock();
        w.map(clock.entries().size());
        for (const auto& [node, counter] : clock.entries()) {
          w.bulk(node);
          w.integer(static_cast<int64_t>(counter));
        }
      }
    });
  };
  return step;
}

// DSET key value context [W n] [N n]: a write that replaces what the context covers. An empty
// context writes blind (a new sibling beside whatever is stored).
Step cmd_dset(const Context& c) {
  if (auto e = check_key(c.args[1], c.limits)) return error(*e);
  Step step;
  step.requests.push_back(request(Op::put, c.args[1], c.session));
  ClientRequest& r = step.requests.back();
  if (auto e = put_value(&r, c.args[2], c.limits)) return error(*e);
  if (!c.args[3].empty()) r.context_token = c.args[3];
  if (auto e = quorum_options(c, 4, "WN", &r)) return error(*e);
  step.then = all_ok;
  return step;
}

// QUORUM [R W N]: shows, or sets, the connection's defaults; the core checks them on each request.
Step cmd_quorum(const Context& c) {
  if (c.args.size() == 4) {
    int64_t q[3] = {};
    for (size_t i = 0; i < 3; ++i) {
      if (!parse_int(c.args[i + 1], &q[i])) {
        return error(std::string("ERR ") + "RWN"[i] + " must be an integer, got '" + c.args[i + 1] + "'");
      }
    }
    c.session.r = q[0];
    c.session.w = q[1];
    c.session.n = q[2];
    return ok();
  }
  if (c.args.size() != 1) return error("ERR wrong number of arguments for 'quorum' command: QUORUM R W N");
  const NodeInfo node = c.info();
  return answer(c.session.version, [&](ReplyWriter& w) {
    w.map(3);
    for (auto [name, mine, theirs] : {std::tuple{"R", c.session.r, node.r}, std::tuple{"W", c.session.w, node.w},
                                      std::tuple{"N", c.session.n, node.n}}) {
      w.bulk(name);
      w.integer(mine.value_or(theirs));
    }
  });
}

std::string quorum_text(const Session& s, const NodeInfo& node) {
  auto one = [](std::optional<int64_t> mine, uint32_t theirs) { return std::to_string(mine.value_or(theirs)); };
  return "R=" + one(s.r, node.r) + " W=" + one(s.w, node.w) + " N=" + one(s.n, node.n);
}

Step cmd_info(const Context& c) {
  const NodeInfo node = c.info();
  const std::vector<std::pair<std::string, std::string>> sections = {
      {"server", "redis_version:7.0.0\r\nminidynamo:1\r\nredis_mode:standalone\r\nnode_id:" + node.node_id +
                     "\r\naddress:" + node.address + "\r\ntcp_port:" + std::to_string(node.port) +
                     "\r\nuptime_in_seconds:" + std::to_string(node.uptime_s) + "\r\n"},
      {"clients", "connected_clients:" + std::to_string(node.connected_clients) + "\r\n"},
      {"replication", "role:master\r\ndynamo_role:leaderless peer, every node coordinates reads and writes\r\n"
                      "cluster_members:" + std::to_string(node.members) + "\r\n"},
      {"quorum", "default_n:" + std::to_string(node.n) + "\r\ndefault_r:" + std::to_string(node.r) +
                     "\r\ndefault_w:" + std::to_string(node.w) + "\r\nconnection:" + quorum_text(c.session, node) + "\r\n"},
      {"keyspace", "db0:keys=" + std::to_string(node.keys_estimate) + ",expires=0,avg_ttl=0\r\n"}};
  std::string text;
  for (const auto& [name, body] : sections) {
    bool wanted = c.args.size() == 1;
    for (size_t i = 1; i < c.args.size(); ++i) {
      const std::string asked = lower(c.args[i]);
      wanted = wanted || asked == name || asked == "all" || asked == "everything" || asked == "default";
    }
    if (!wanted) continue;
    std::string title = name;
    title[0] = static_cast<char>(std::toupper(title[0]));
    text += (text.empty() ? "# " : "\r\n# ") + title + "\r\n" + body;
  }
  return answer(c.session.version, [&](ReplyWriter& w) { w.verbatim(text); });
}

Step cmd_client(const Context& c) {
  const std::string sub = upper(c.args[1]);
  if (sub == "SETNAME" && c.args.size() == 3) {
    const std::string& name = c.args[2];
    if (std::any_of(name.begin(), name.end(), [](unsigned char ch) { return ch <= ' ' || ch > '~'; })) {
      return error("ERR Client names cannot contain spaces, newlines or special characters.");
    }
    c.session.name = name;
    return ok();
  }
  if (sub == "GETNAME" && c.args.size() == 2) {
    return answer(c.session.version, [&](ReplyWriter& w) {
      if (c.session.name.empty()) return w.null();
      w.bulk(c.session.name);
    });
  }
  if (sub == "ID" && c.args.size() == 2) {
    return answer(c.session.version, [&](ReplyWriter& w) { w.integer(static_cast<int64_t>(c.session.id)); });
  }
  if (sub == "INFO" && c.args.size() == 2) {
    const std::string line = "id=" + std::to_string(c.session.id) + " addr=" + c.session.peer + " name=" + c.session.name +
                             " db=0 resp=" + std::to_string(static_cast<int>(c.session.version)) + " quorum=" +
                             quorum_text(c.session, c.info()) + "\n";
    return answer(c.session.version, [&](ReplyWriter& w) { w.verbatim(line); });
  }
  if (sub == "SETINFO" && c.args.size() == 4) return ok();  // library name and version: nothing keeps them
  return error("ERR unknown subcommand or wrong number of arguments for CLIENT '" + c.args[1].substr(0, 64) +
               "' (CLIENT SETNAME, GETNAME, ID, INFO)");
}

// AUTH's and HELLO AUTH's step: the node checks `credentials`; if it accepts them, they are the
// connection's from then on, and `accepted` gives the reply.
Step authenticate(Session& session, security::Credentials credentials, std::function<std::string()> accepted) {
  Step step;
  step.authenticate = credentials;
  step.then = [&session, credentials, accepted = std::move(accepted)](std::vector<ClientResponse> answers) {
    const ClientResponse& answer = answers.at(0);
    if (answer.outcome == Outcome::unauthenticated) return error("WRONGPASS " + answer.message);
    if (answer.outcome != Outcome::ok) return error(failure(answer));
    session.credentials = credentials;
    Step done;
    done.reply = accepted();
    return done;
  };
  return step;
}

security::Credentials auth_credentials(const std::string& first, const std::string* password) {
  if (password == nullptr) return {security::Credentials::Kind::token, {}, first};
  return {security::Credentials::Kind::password, first, *password};
}

std::string hello_reply(const Session& session) {
  return answer(session.version, [&](ReplyWriter& w) {
    w.map(7);
    w.bulk("server");
    w.bulk("minidynamo");
    w.bulk("version");  // the Redis version whose commands and replies this front end follows
    w.bulk("7.0.0");
    w.bulk("proto");
    w.integer(static_cast<int>(session.version));
    w.bulk("id");
    w.integer(static_cast<int64_t>(session.id));
    w.bulk("mode");
    w.bulk("standalone");
    w.bulk("role");
    w.bulk("master");
    w.bulk("modules");
    w.array(0);
  }).reply;
}

Step cmd_hello(const Context& c) {
  Version version = c.session.version;
  if (c.args.size() > 1) {
    int64_t asked = 0;
    if (!parse_int(c.args[1], &asked) || (asked != 2 && asked != 3)) {
      return error("NOPROTO unsupported protocol version '" + c.args[1].substr(0, 32) + "': this server speaks 2 and 3");
    }
    version = static_cast<Version>(asked);
  }
  std::string name = c.session.name;
  std::optional<security::Credentials> credentials;
  for (size_t i = 2; i < c.args.size(); ++i) {
    const std::string option = upper(c.args[i]);
    if (option == "AUTH" && i + 2 < c.args.size()) {
      credentials = auth_credentials(c.args[i + 1], &c.args[i + 2]);
      i += 2;
      continue;
    }
    if (option != "SETNAME" || i + 1 >= c.args.size()) return syntax_error();
    name = c.args[++i];
  }
  // HELLO changes nothing unless its AUTH is accepted (Redis's rule).
  auto apply = [&session = c.session, version, name] {
    session.version = version;
    session.name = name;
    return hello_reply(session);
  };
  if (credentials) return authenticate(c.session, std::move(*credentials), apply);
  Step done;
  done.reply = apply();
  return done;
}

Step cmd_command(const Context& c);

Step cmd_ping(const Context& c) {
  if (c.args.size() > 2) return error("ERR wrong number of arguments for 'ping' command");
  return answer(c.session.version, [&](ReplyWriter& w) {
    if (c.args.size() == 1) return w.simple("PONG");
    w.bulk(c.args[1]);
  });
}
Step cmd_echo(const Context& c) {
  return answer(c.session.version, [&](ReplyWriter& w) { w.bulk(c.args[1]); });
}
Step cmd_select(const Context& c) {
  if (c.args[1] == "0") return ok();
  return error("ERR DB index is out of range: Mini Dynamo has one keyspace, database 0");
}
Step cmd_quit(const Context&) {
  Step step = ok();
  step.close = true;
  return step;
}
Step cmd_auth(const Context& c) {
  if (c.args.size() > 3) return error("ERR wrong number of arguments for 'auth' command");
  auto credentials = auth_credentials(c.args[1], c.args.size() == 3 ? &c.args[2] : nullptr);
  return authenticate(c.session, std::move(credentials), [] { return std::string("+OK\r\n"); });
}

struct CommandSpec {
  std::string_view name;
  int arity;  // as Redis counts it: > 0 exactly so many words, < 0 at least -arity
  std::string_view flags;
  int first_key, last_key, key_step;
  Step (*run)(const Context&);
};

constexpr CommandSpec kCommands[] = {
    {"ping", -1, "fast", 0, 0, 0, cmd_ping},
    {"echo", 2, "fast", 0, 0, 0, cmd_echo},
    {"hello", -1, "noscript loading stale fast no_auth", 0, 0, 0, cmd_hello},
    {"auth", -2, "noscript loading stale fast no_auth", 0, 0, 0, cmd_auth},
    {"select", 2, "loading stale fast", 0, 0, 0, cmd_select},
    {"quit", -1, "noscript loading stale fast no_auth", 0, 0, 0, cmd_quit},
    {"get", 2, "readonly fast", 1, 1, 1, cmd_get},
    {"set", -3, "write denyoom", 1, 1, 1, cmd_set},
    {"del", -2, "write", 1, -1, 1, cmd_del},
    {"exists", -2, "readonly fast", 1, -1, 1, cmd_exists},
    {"mget", -2, "readonly fast", 1, -1, 1, cmd_mget},
    {"mset", -3, "write denyoom", 1, -1, 2, cmd_mset},
    {"scan", -2, "readonly", 0, 0, 0, cmd_scan},
    {"info", -1, "loading stale", 0, 0, 0, cmd_info},
    {"client", -2, "noscript loading stale", 0, 0, 0, cmd_client},
    {"command", -1, "loading stale", 0, 0, 0, cmd_command},
    {"dget", -2, "readonly", 1, 1, 1, cmd_dget},
    {"dset", -4, "write denyoom", 1, 1, 1, cmd_dset},
    {"quorum", -1, "fast", 0, 0, 0, cmd_quorum},
};

const CommandSpec* find_command(std::string_view name) {
  const std::string wanted = lower(name);
  for (const auto& spec : kCommands) {
    if (spec.name == wanted) return &spec;
  }
  return nullptr;
}

// COMMAND's description of one command, as Redis 2.8 to 7 all begin it.
void write_spec(ReplyWriter& w, const CommandSpec& spec) {
  w.array(6);
  w.bulk(spec.name);
  w.integer(spec.arity);
  std::vector<std::string_view> flags;
  for (size_t at = 0; at < spec.flags.size();) {
    size_t end = std::min(spec.flags.find(' ', at), spec.flags.size());
    flags.push_back(spec.flags.substr(at, end - at));
    at = end + 1;
  }
  w.array(flags.size());
  for (auto f : flags) w.simple(f);
  w.integer(spec.first_key);
  w.integer(spec.last_key);
  w.integer(spec.key_step);
}

// COMMAND, COMMAND COUNT|LIST|INFO|DOCS: enough for redis-cli and client libraries that ask.
Step cmd_command(const Context& c) {
  const std::string sub = c.args.size() > 1 ? upper(c.args[1]) : "";
  return answer(c.session.version, [&](ReplyWriter& w) {
    if (sub.empty()) {
      w.array(std::size(kCommands));
      for (const auto& spec : kCommands) write_spec(w, spec);
    } else if (sub == "COUNT") {
      w.integer(static_cast<int64_t>(std::size(kCommands)));
    } else if (sub == "LIST") {
      w.array(std::size(kCommands));
      for (const auto& spec : kCommands) w.bulk(spec.name);
    } else if (sub == "INFO") {
      w.array(c.args.size() - 2);
      for (size_t i = 2; i < c.args.size(); ++i) {
        if (const CommandSpec* spec = find_command(c.args[i])) {
          write_spec(w, *spec);
        } else {
          w.null();
        }
      }
    } else if (sub == "DOCS") {
      w.map(0);  // no documentation to give: redis-cli falls back on its own
    } else {
      w.error("ERR unknown subcommand '" + c.args[1].substr(0, 64) + "'. Try COMMAND, COMMAND COUNT, LIST, INFO, DOCS.");
    }
  });
}

}  // namespace

Step execute(const std::vector<std::string>& command, Session& session, const CommandLimits& limits,
             const InfoFn& info) {
  const CommandSpec* spec = find_command(command[0]);
  if (spec == nullptr) {
    std::string text = "ERR unknown command '" + command[0].substr(0, 128) + "', with args beginning with: ";
    for (size_t i = 1; i < command.size() && i < 4; ++i) text += "'" + command[i].substr(0, 64) + "' ";
    return error(text);
  }
  const auto words = static_cast<int>(std::min<size_t>(command.size(), 1 << 30));
  if ((spec->arity > 0 && words != spec->arity) || (spec->arity < 0 && words < -spec->arity)) {
    return error("ERR wrong number of arguments for '" + std::string(spec->name) + "' command");
  }
  return spec->run(Context{command, session, limits, info});
}

CommandKeys command_keys(const std::vector<std::string>& command) {
  CommandKeys out;
  const CommandSpec* spec = find_command(command[0]);
  if (spec == nullptr) return out;
  out.all = spec->name == "scan";
  if (spec->first_key == 0) return out;
  const auto last = spec->last_key < 0 ? static_cast<int>(command.size()) + spec->last_key : spec->last_key;
  for (int i = spec->first_key; i <= last && i < static_cast<int>(command.size()); i += spec->key_step) {
    out.keys.push_back(command[static_cast<size_t>(i)]);
  }
  return out;
}

std::string protocol_error_reply(std::string_view what) {
  return answer(Version::resp2, [&](ReplyWriter& w) { w.error("ERR Protocol error: " + std::string(what)); }).reply;
}

std::string encode_scan_cursor(std::string_view last_key) {
  std::string out = "1";
  out.reserve(1 + 3 * last_key.size());
  for (unsigned char c : last_key) {
    out += static_cast<char>('0' + c / 100);
    out += static_cast<char>('0' + c / 10 % 10);
    out += static_cast<char>('0' + c % 10);
  }
  return out;
}

std::optional<std::string> decode_scan_cursor(std::string_view cursor) {
  if (cursor.empty() || cursor[0] != '1' || (cursor.size() - 1) % 3 != 0) return std::nullopt;
  std::string key;
  for (size_t i = 1; i < cursor.size(); i += 3) {
    int byte = 0;
    for (size_t j = i; j < i + 3; ++j) {
      if (cursor[j] < '0' || cursor[j] > '9') return std::nullopt;
      byte = byte * 10 + (cursor[j] - '0');
    }
    if (byte > 255) return std::nullopt;
    key += static_cast<char>(byte);
  }
  return key;
}

}  // namespace md::net::resp
