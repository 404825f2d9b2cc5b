// The RESP front end without sockets: the parser (bounded, incremental, never crashing), the reply
// writer in both protocol versions, and the commands' translation to core requests and back.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "net/json_bytes.h"
#include "net/resp_commands.h"
#include "net/resp_protocol.h"

namespace md::net::resp {
namespace {

using Command = std::vector<std::string>;
using Kind = CommandParser::Kind;

std::string encode(const Command& command) {
  std::string out = "*" + std::to_string(command.size()) + "\r\n";
  for (const auto& arg : command) out += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
  return out;
}

// Feeds `bytes` to a parser in pieces that end at `cuts` (as a socket might deliver them), keeping
// unconsumed bytes as a connection does; returns the commands and the error that broke the stream.
std::pair<std::vector<Command>, std::string> parse_all(std::string_view bytes, const std::vector<size_t>& cuts,
                                                ParserLimits limits = {}) {
  CommandParser parser(limits);
  std::vector<Command> commands;
  std::string buffered;
  size_t from = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(bytes.size());
  for (size_t end : ends) {
    if (end < from || end > bytes.size()) continue;
    buffered.append(bytes.substr(from, end - from));
    from = end;
    while (true) {
      Command command;
      auto r = parser.parse(buffered, &command);
      if (r.consumed > buffered.size()) ADD_FAILURE() << "consumed more than it was given";
      buffered.erase(0, r.consumed);
      if (r.kind == Kind::error) return {commands, r.error};
      if (r.kind == Kind::need_more) break;
      commands.push_back(std::move(command));
    }
  }
  return {commands, ""};
}

TEST(RespParser, reads_arrays_of_bulk_strings_and_inline_commands_pipelined) {
  const std::string bytes = encode({"SET", "k", "a\r\nb"}) + "PING\r\n" + "GET  k\t x\n" + encode({"GET", ""});
  auto [commands, broken] = parse_all(bytes, {});
  EXPECT_EQ(broken, "");
  EXPECT_EQ(commands, (std::vector<Command>{{"SET", "k", "a\r\nb"}, {"PING"}, {"GET", "k", "x"}, {"GET", ""}}));
}

TEST(RespParser, empty_lines_and_empty_arrays_are_no_commands) {
  auto [commands, broken] = parse_all("\r\n*0\r\n*-1\r\n  \r\nPING\r\n", {});
  EXPECT_EQ(broken, "");
  EXPECT_EQ(commands, (std::vector<Command>{{"PING"}}));
}

TEST(RespParser, a_huge_bulk_length_is_an_error_from_its_header_without_allocating_it) {
  CommandParser parser(ParserLimits{});
  Command command;
  auto r = parser.parse("*2\r\n$3\r\nSET\r\n$1073741824\r\n", &command);
  ASSERT_EQ(r.kind, Kind::error);
  EXPECT_EQ(r.error, "invalid bulk length");
  // And the parser refuses to go on: the connection is to close.
  EXPECT_EQ(parser.parse("PING\r\n", &command).kind, Kind::error);
}

TEST(RespParser, every_limit_and_malformation_is_a_protocol_error) {
  ParserLimits limits;
  limits.bulk_bytes_max = 10;
  limits.items_max = 4;
  limits.command_bytes_max = 3 * (sizeof(std::string) + 10);
  limits.line_bytes_max = 32;
  for (const auto& [bytes, error] : std::vector<std::pair<std::string, std::string>>{
           {"*5\r\n", "invalid multibulk length"},
           {"*x\r\n", "invalid multibulk length"},
           {"*99999999999999999999999\r\n", "invalid multibulk length"},
           {"*1\r\n$11\r\n", "invalid bulk length"},
           {"*1\r\n$-1\r\n", "invalid bulk length"},
           {"*1\r\n:5\r\n", "expected '$', got ':'"},
           {"*1\r\n$2\r\nabc\r\n", "a bulk string does not end with CRLF"},
           {"*4\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n0123456789\r\n$10\r\n",
            "the command is longer than " + std::to_string(limits.command_bytes_max) + " bytes"},
           {std::string(40, 'x'), "too big inline request"},
           {"*" + std::string(40, '1'), "too big mbulk count string"},
           {"*1\r\n$" + std::string(40, '1'), "too big bulk count string"},
       }) {
    CommandParser parser(limits);
    Command command;
    auto r = parser.parse(bytes, &command);
    EXPECT_EQ(r.kind, Kind::error) << bytes;
    EXPECT_EQ(r.error, error) << bytes;
  }
}

TEST(RespParser, a_command_cut_in_half_needs_more_and_keeps_what_it_read) {
  CommandParser parser(ParserLimits{});
  Command command;
  const std::string bytes = encode({"SET", "key", "value"});
  auto r = parser.parse(bytes.substr(0, 20), &command);
  EXPECT_EQ(r.kind, Kind::need_more);
  EXPECT_FALSE(parser.idle());
  r = parser.parse(bytes.substr(r.consumed), &command);
  ASSERT_EQ(r.kind, Kind::command);
  EXPECT_EQ(command, (Command{"SET", "key", "value"}));
  EXPECT_TRUE(parser.idle());
}

rc::Gen<Command> gen_command() {
  return rc::gen::nonEmpty(rc::gen::container<Command>(rc::gen::arbitrary<std::string>()));
}

RC_GTEST_PROP(RespParser, commands_split_at_any_bytes_parse_as_when_whole, ()) {
  const auto commands = *rc::gen::nonEmpty(rc::gen::container<std::vector<Command>>(gen_command()));
  std::string bytes;
  for (const auto& c : commands) bytes += encode(c);
  auto cuts = *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, bytes.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  auto [parsed, error] = parse_all(bytes, cuts);
  RC_ASSERT(error.empty());
  RC_ASSERT(parsed == commands);
}

TEST(RespParser, commands_split_at_every_byte_parse_as_when_whole) {
  const std::string bytes = encode({"SET", "k", "v"}) + "PING x\r\n" + encode({"MGET", "a", "", "c"});
  std::vector<size_t> every(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) every[i] = i;
  EXPECT_EQ(parse_all(bytes, every), parse_all(bytes, {}));
  EXPECT_EQ(parse_all(bytes, {}).first.size(), 3u);
}

TEST(RespParser, headers_and_inline_lines_of_exactly_the_line_limit_parse_however_they_are_split) {
  ParserLimits limits;
  limits.line_bytes_max = 16;
  const std::string bytes = "*000000000000001\r\n$000000000000003\r\nabc\r\n" + std::string(16, 'x') + "\r\n";
  std::vector<size_t> every(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) every[i] = i;
  const auto whole = parse_all(bytes, {}, limits);
  EXPECT_EQ(whole.first, (std::vector<Command>{{"abc"}, {std::string(16, 'x')}}));
  EXPECT_EQ(whole.second, "");
  EXPECT_EQ(parse_all(bytes, every, limits), whole);
}

// Bytes that look like RESP often enough to reach every branch: its tokens, digits and noise.
rc::Gen<std::string> gen_resp_like_bytes() {
  const std::vector<std::string> tokens = {"*", "$", "\r\n", "\r", "\n", "-", " ", "1", "2", "3", "9", "0",
                                           "12345678901234", "PING", "GET k"};
  return rc::gen::map(rc::gen::container<std::vector<std::string>>(
                          rc::gen::oneOf(rc::gen::elementOf(tokens), rc::gen::arbitrary<std::string>())),
                      [](const std::vector<std::string>& pieces) {
                        std::string out;
                        for (const auto& p : pieces) out += p;
                        return out;
                      });
}

// Any bytes: a command, need-more or an error, never a crash, never more consumed than given;
// and however they are split, the same outcome.
RC_GTEST_PROP(RespParser, any_bytes_parse_the_same_however_they_are_split, ()) {
  const std::string bytes = *gen_resp_like_bytes();
  ParserLimits limits;
  limits.bulk_bytes_max = 64;
  limits.line_bytes_max = 16;
  limits.items_max = 8;
  auto cuts = *rc::gen::container<std::vector<size_t>>(rc::gen::inRange<size_t>(0, bytes.size() + 1));
  std::sort(cuts.begin(), cuts.end());
  RC_ASSERT(parse_all(bytes, cuts, limits) == parse_all(bytes, {}, limits));
}

TEST(RespWriter, resp3_types_fall_back_to_resp2_as_redis_does) {
  for (auto [version, expected] : {std::pair{Version::resp2, std::string("*2\r\n$1\r\nk\r\n$-1\r\n:1\r\n$2\r\nhi\r\n")},
                                   std::pair{Version::resp3, std::string("%1\r\n$1\r\nk\r\n_\r\n#t\r\n=6\r\ntxt:hi\r\n")}}) {
    std::string out;
    ReplyWriter w(&out, version);
    w.map(1);
    w.bulk("k");
    w.null();
    w.boolean(true);
    w.verbatim("hi");
    EXPECT_EQ(out, expected);
  }
}

TEST(RespWriter, simple_strings_and_errors_never_carry_a_line_break) {
  std::string out;
  ReplyWriter w(&out, Version::resp2);
  w.error("ERR bad\r\nthing");
  w.simple("a\nb");
  EXPECT_EQ(out, "-ERR bad  thing\r\n+a b\r\n");
}

// --- Commands ---

NodeInfo test_node() {
  NodeInfo node;
  node.node_id = "node_a";
  node.members = 3;
  return node;
}

struct Connection {  // one client connection's commands
  Session session;
  CommandLimits limits;
  InfoFn info = test_node;
  Step operator()(const Command& command) { return execute(command, session, limits, info); }
};

core::ClientResponse found(std::vector<std::string> json_values, std::string context = "ctx") {
  core::ClientResponse r;
  for (size_t i = 0; i < json_values.size(); ++i) {
    core::Sibling s;
    s.dot = {"node_a", i + 1};
    s.value = json_values[i];
    r.siblings.push_back(s);
  }
  r.context_token = std::move(context);
  return r;
}
core::ClientResponse absent() {
  core::ClientResponse r;
  r.outcome = core::Outcome::not_found;
  return r;
}

TEST(RespCommands, set_writes_a_superseding_put_of_the_value_as_a_json_string) {
  Connection run;
  auto step = run({"set", "user123", "Al\"ice"});
  ASSERT_EQ(step.requests.size(), 1u);
  const auto& r = step.requests[0];
  EXPECT_EQ(r.op, core::Op::put);
  EXPECT_EQ(r.key, "user123");
  EXPECT_EQ(r.value, "\"Al\\\"ice\"");
  EXPECT_TRUE(r.supersede);
  EXPECT_FALSE(r.context_token);
  EXPECT_EQ(step.then({core::ClientResponse{}}).reply, "+OK\r\n");
}

TEST(RespCommands, set_refuses_expiry_and_conditional_options_saying_why) {
  Connection run;
  EXPECT_NE(run({"SET", "k", "v", "EX", "10"}).reply.find("keeps no expiry"), std::string::npos);
  EXPECT_NE(run({"SET", "k", "v", "px", "10"}).reply.find("keeps no expiry"), std::string::npos);
  EXPECT_NE(run({"SET", "k", "v", "NX"}).reply.find("cannot read and write a key atomically"), std::string::npos);
  EXPECT_NE(run({"SET", "k", "v", "GET"}).reply.find("DGET"), std::string::npos);
  EXPECT_EQ(run({"SET", "k", "v", "bogus"}).reply, "-ERR syntax error\r\n");
  EXPECT_EQ(run({"SET", "k", "v", "KEEPTTL"}).requests.size(), 1u);
}

TEST(RespCommands, get_answers_a_strings_bytes_other_json_as_text_and_siblings_as_a_conflict) {
  Connection run;
  auto step = run({"GET", "k"});
  ASSERT_EQ(step.requests.size(), 1u);
  EXPECT_EQ(step.requests[0].op, core::Op::get);
  EXPECT_EQ(step.then({found({"\"Alice\""})}).reply, "$5\r\nAlice\r\n");
  EXPECT_EQ(step.then({found({"{\"a\":1}"})}).reply, "$7\r\n{\"a\":1}\r\n");
  EXPECT_EQ(step.then({absent()}).reply, "$-1\r\n");
  EXPECT_EQ(step.then({found({"1", "2"})}).reply, "-CONFLICT 2 siblings, read them with DGET\r\n");
  core::ClientResponse unavailable;
  unavailable.outcome = core::Outcome::unavailable;
  unavailable.message = "read quorum not reached";
  unavailable.required = 2;
  unavailable.acknowledged = 1;
  EXPECT_EQ(step.then({unavailable}).reply, "-UNAVAILABLE read quorum not reached (required 2, acknowledged 1)\r\n");
}

RC_GTEST_PROP(RespCommands, any_key_round_trips_through_a_decimal_scan_cursor_that_is_never_zero, (std::string key)) {
  const std::string cursor = encode_scan_cursor(key);
  RC_ASSERT(cursor != "0");
  RC_ASSERT(cursor.find_first_not_of("0123456789") == std::string::npos);
  RC_ASSERT(decode_scan_cursor(cursor) == key);
}

TEST(RespCommands, text_no_scan_handed_out_is_not_a_cursor) {
  for (const char* bad : {"", "0", "2", "10", "1256", "1abc", "k00"}) EXPECT_FALSE(decode_scan_cursor(bad)) << bad;
  EXPECT_EQ(decode_scan_cursor("1"), "");
}

RC_GTEST_PROP(RespCommands, any_bytes_round_trip_through_the_stored_json, (std::string bytes)) {
  RC_ASSERT(json_to_bytes(bytes_to_json(bytes)) == bytes);  // net/json_bytes.h, shared with gRPC
}

TEST(RespCommands, del_reads_then_deletes_what_it_found_with_the_reads_context_and_counts_it) {
  Connection run;
  auto reads = run({"DEL", "a", "b", "a"});
  ASSERT_EQ(reads.requests.size(), 2u);  // a key named twice is one key
  auto deletes = reads.then({found({"1"}, "ctx_a"), absent()});
  ASSERT_EQ(deletes.requests.size(), 1u);
  EXPECT_EQ(deletes.requests[0].op, core::Op::del);
  EXPECT_EQ(deletes.requests[0].key, "a");
  EXPECT_EQ(deletes.requests[0].context_token, "ctx_a");
  EXPECT_EQ(deletes.then({core::ClientResponse{}}).reply, ":1\r\n");
  EXPECT_EQ(reads.then({absent(), absent()}).reply, ":0\r\n");
}

TEST(RespCommands, mget_answers_in_key_order_and_exists_counts_keys_found) {
  Connection run;
  auto step = run({"MGET", "a", "b", "c"});
  ASSERT_EQ(step.requests.size(), 3u);
  EXPECT_EQ(step.then({found({"\"x\""}), absent(), found({"1", "2"})}).reply,
            "*3\r\n$1\r\nx\r\n$-1\r\n-CONFLICT 2 siblings, read them with DGET\r\n");
  EXPECT_EQ(run({"EXISTS", "a", "a", "b"}).then({found({"1"}), found({"1"}), absent()}).reply, ":2\r\n");
}

TEST(RespCommands, mset_puts_each_key_once_with_its_last_value) {
  Connection run;
  auto step = run({"MSET", "a", "1", "b", "2", "a", "3"});
  ASSERT_EQ(step.requests.size(), 2u);
  EXPECT_EQ(step.requests[0].key, "a");
  EXPECT_EQ(step.requests[0].value, "\"3\"");
  EXPECT_TRUE(step.requests[0].supersede);
  EXPECT_EQ(run({"MSET", "a", "1", "b"}).reply, "-ERR wrong number of arguments for 'mset' command\r\n");
}

TEST(RespCommands, scan_lists_by_prefix_and_hands_out_the_listing_cursor_or_zero_at_the_end) {
  Connection run;
  auto step = run({"SCAN", "0", "MATCH", "user:*", "COUNT", "100"});
  ASSERT_EQ(step.requests.size(), 1u);
  EXPECT_EQ(step.requests[0].op, core::Op::list);
  EXPECT_EQ(step.requests[0].key, "user:");
  EXPECT_EQ(step.requests[0].limit, 100u);
  EXPECT_FALSE(step.requests[0].cursor);
  core::ClientResponse page;
  page.keys = {"user:1", "user:2"};
  page.next_cursor = "user:2";
  const std::string cursor = encode_scan_cursor("user:2");
  EXPECT_EQ(cursor, "1117115101114058050");
  EXPECT_EQ(step.then({page}).reply, "*2\r\n$" + std::to_string(cursor.size()) + "\r\n" + cursor +
                                         "\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n");
  page.next_cursor.reset();
  EXPECT_EQ(step.then({page}).reply.substr(0, 11), "*2\r\n$1\r\n0\r\n");
  EXPECT_EQ(run({"SCAN", cursor}).requests[0].cursor, "user:2");
  EXPECT_NE(run({"SCAN", "0", "MATCH", "u*r"}).reply.find("only a literal prefix"), std::string::npos);
  EXPECT_NE(run({"SCAN", "0", "MATCH", "user"}).reply.find("only a literal prefix"), std::string::npos);
  EXPECT_NE(run({"SCAN", "0", "MATCH", ""}).reply.find("only a literal prefix"), std::string::npos);
  EXPECT_EQ(run({"SCAN", "0", "MATCH", "*"}).requests[0].key, "");
  EXPECT_NE(run({"SCAN", "bogus"}).reply.find("ERR invalid cursor"), std::string::npos);
}

TEST(RespCommands, dget_shows_context_and_siblings_with_clocks_and_dset_writes_with_the_context) {
  Connection run;
  auto dget = run({"DGET", "k", "R", "3"});
  ASSERT_EQ(dget.requests.size(), 1u);
  EXPECT_EQ(dget.requests[0].r, 3);
  const std::string resp2 = dget.then({found({"\"x\""}, "T")}).reply;
  EXPECT_EQ(resp2,
            "*4\r\n$7\r\ncontext\r\n$1\r\nT\r\n$8\r\nsiblings\r\n*1\r\n*4\r\n$5\r\nvalue\r\n$1\r\nx\r\n"
            "$12\r\nvector_clock\r\n*2\r\n$6\r\nnode_a\r\n:1\r\n");
  run.session.version = Version::resp3;
  EXPECT_EQ(run({"DGET", "k"}).then({found({"\"x\""}, "T")}).reply.substr(0, 4), "%2\r\n");

  auto dset = run({"DSET", "k", "merged", "T", "W", "1", "N", "2"});
  ASSERT_EQ(dset.requests.size(), 1u);
  EXPECT_EQ(dset.requests[0].context_token, "T");
  EXPECT_EQ(dset.requests[0].w, 1);
  EXPECT_EQ(dset.requests[0].n, 2);
  EXPECT_FALSE(dset.requests[0].supersede);
  EXPECT_NE(run({"DSET", "k", "v", "T", "R", "1"}).reply.find("syntax error"), std::string::npos);
}

TEST(RespCommands, quorum_sets_the_connections_defaults_for_every_later_request) {
  Connection run;
  EXPECT_EQ(run({"QUORUM", "1", "3", "3"}).reply, "+OK\r\n");
  auto get = run({"GET", "k"});
  EXPECT_EQ(get.requests[0].r, 1);
  EXPECT_EQ(get.requests[0].w, 3);
  EXPECT_EQ(get.requests[0].n, 3);
  EXPECT_NE(run({"QUORUM", "x", "1", "1"}).reply.find("R must be an integer"), std::string::npos);
  EXPECT_NE(run({"CLIENT", "INFO"}).reply.find("quorum=R=1 W=3 N=3"), std::string::npos);
}

TEST(RespCommands, hello_3_switches_the_connection_to_resp3) {
  Connection run;
  auto hello = run({"HELLO", "3"});
  EXPECT_EQ(run.session.version, Version::resp3);
  EXPECT_EQ(hello.reply.substr(0, 4), "%7\r\n");
  EXPECT_EQ(run({"HELLO", "4"}).reply.substr(0, 8), "-NOPROTO");
  EXPECT_EQ(run({"PING"}).reply, "+PONG\r\n");
}

TEST(RespCommands, auth_has_the_node_check_the_credentials_and_keeps_them_only_if_accepted) {
  using CredentialKind = security::Credentials::Kind;
  using core::Outcome;
  core::ClientResponse accepted, refused;
  refused.outcome = Outcome::unauthenticated;
  refused.message = "wrong user name or password";
  Connection run;
  // HELLO 3 AUTH: nothing changes until the node accepts, and nothing if it refuses.
  auto hello = run({"HELLO", "3", "AUTH", "alice", "pw", "SETNAME", "app"});
  ASSERT_TRUE(hello.authenticate);
  EXPECT_EQ(*hello.authenticate, (security::Credentials{CredentialKind::password, "alice", "pw"}));
  EXPECT_EQ(run.session.version, Version::resp2);
  EXPECT_EQ(hello.then({refused}).reply, "-WRONGPASS wrong user name or password\r\n");
  EXPECT_EQ(run.session.version, Version::resp2);
  EXPECT_EQ(run.session.credentials.kind, CredentialKind::none);
  hello = run({"HELLO", "3", "AUTH", "alice", "pw"});
  EXPECT_EQ(hello.then({accepted}).reply.substr(0, 4), "%7\r\n");
  EXPECT_EQ(run.session.version, Version::resp3);
  EXPECT_EQ(run.session.credentials.user, "alice");
  // AUTH with one argument presents a token, with two a user's password.
  auto auth = run({"AUTH", "mdt_token"});
  EXPECT_EQ(*auth.authenticate, (security::Credentials{CredentialKind::token, {}, "mdt_token"}));
  EXPECT_EQ(auth.then({accepted}).reply, "+OK\r\n");
  EXPECT_EQ(run.session.credentials.secret, "mdt_token");
  EXPECT_EQ(run({"AUTH", "a", "b", "c"}).reply, "-ERR wrong number of arguments for 'auth' command\r\n");
  // A key command refused by the gate says so in Redis's words.
  auto get = run({"GET", "k"});
  core::ClientResponse forbidden;
  forbidden.outcome = Outcome::forbidden;
  forbidden.message = "user alice may not read key 'k': no grant covers it";
  EXPECT_EQ(get.then({forbidden}).reply, "-NOPERM user alice may not read key 'k': no grant covers it\r\n");
  get = run({"GET", "k"});
  EXPECT_EQ(get.then({refused}).reply.substr(0, 8), "-NOAUTH ");
}

TEST(RespCommands, unknown_commands_wrong_arity_and_long_keys_are_clear_errors) {
  Connection run;
  EXPECT_EQ(run({"FLUSHALL", "x"}).reply, "-ERR unknown command 'FLUSHALL', with args beginning with: 'x' \r\n");
  EXPECT_EQ(run({"GET"}).reply, "-ERR wrong number of arguments for 'get' command\r\n");
  EXPECT_EQ(run({"GET", std::string(1025, 'k')}).reply, "-ERR the key is 1025 bytes; the limit is 1024\r\n");
  run.limits.keys_per_command_max = 2;
  EXPECT_NE(run({"MGET", "a", "b", "c"}).reply.find("at most 2 keys"), std::string::npos);
  EXPECT_EQ(run({"SELECT", "1"}).reply.substr(0, 26), "-ERR DB index is out of ra");
  auto quit = run({"QUIT"});
  EXPECT_TRUE(quit.close);
  EXPECT_EQ(quit.reply, "+OK\r\n");
}

TEST(RespCommands, a_commands_keys_are_what_it_reads_or_writes_and_scan_reads_them_all) {
  EXPECT_EQ(command_keys({"SET", "k", "v", "KEEPTTL"}).keys, (std::vector<std::string>{"k"}));
  EXPECT_EQ(command_keys({"mset", "a", "1", "b", "2"}).keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(command_keys({"DEL", "a", "b"}).keys, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(command_keys({"DGET", "k", "R", "3"}).keys, (std::vector<std::string>{"k"}));
  EXPECT_TRUE(command_keys({"PING"}).keys.empty());
  EXPECT_TRUE(command_keys({"NOSUCH", "k"}).keys.empty());
  EXPECT_TRUE(command_keys({"SCAN", "0"}).all);
  EXPECT_FALSE(command_keys({"GET", "k"}).all);
}

TEST(RespCommands, client_names_info_and_command_answer_what_redis_cli_asks) {
  Connection run;
  EXPECT_EQ(run({"CLIENT", "GETNAME"}).reply, "$-1\r\n");
  EXPECT_EQ(run({"CLIENT", "SETNAME", "bench"}).reply, "+OK\r\n");
  EXPECT_EQ(run({"CLIENT", "GETNAME"}).reply, "$5\r\nbench\r\n");
  EXPECT_NE(run({"CLIENT", "SETNAME", "a b"}).reply.find("cannot contain spaces"), std::string::npos);
  EXPECT_EQ(run({"COMMAND", "DOCS"}).reply, "*0\r\n");
  EXPECT_EQ(run({"COMMAND", "COUNT"}).reply, ":19\r\n");
  const std::string info = run({"INFO"}).reply;
  for (const char* field : {"role:master", "default_n:3", "db0:keys=", "cluster_members:3"}) {
    EXPECT_NE(info.find(field), std::string::npos) << field;
  }
  EXPECT_EQ(run({"INFO", "keyspace"}).reply.find("role:"), std::string::npos);
}

}  // namespace
}  // namespace md::net::resp
