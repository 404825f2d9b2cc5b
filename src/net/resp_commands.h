// The Redis commands the RESP front end understands (docs/api.md, "RESP"), and what each asks of
// the core. Pure, no sockets: a command becomes a Step, either its whole reply or core requests to
// submit and what to do with their answers (which may be more requests: DEL reads, then deletes).
//
// Values: the core stores a value as compact JSON text (the HTTP API's). A value written over
// RESP is stored as a JSON string holding its bytes; a read answers a JSON string's bytes, and
// any other JSON (a value PUT over HTTP as {"a":1}) as its text. So `SET k Alice` reads over HTTP
// as "Alice", and HTTP's {"value": {"a":1}} reads over RESP as {"a":1}.
//
// Dynamo's semantics stay visible: SET supersedes what its coordinator holds (no context needed,
// no siblings piled up by repeated SETs), GET of a key with siblings is an error that says so,
// DGET and DSET read and write with the causal context, QUORUM sets a connection's N, R and W.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "net/resp_protocol.h"
#include "security/credentials.h"

namespace md::net::resp {

// What INFO and HELLO tell about the node, asked of the runtime at each one.
struct NodeInfo {
  std::string node_id;
  std::string address;               // its HTTP address, as members know it
  size_t members = 0;                // nodes in its ring
  uint64_t keys_estimate = 0;        // the engine's estimate of the keys this node stores
  uint32_t n = 3, r = 2, w = 2;      // the node's defaults for requests that leave them out
  uint64_t uptime_s = 0;
  uint64_t connected_clients = 0;    // RESP connections open
  uint16_t port = 0;                 // the RESP port
};
using InfoFn = std::function<NodeInfo()>;

struct CommandLimits {
  size_t key_bytes_max = 1024;         // longer keys are refused
  size_t value_bytes_max = 1 << 20;    // a value longer than this as JSON is refused
  size_t keys_per_command_max = 10000; // MGET, MSET, DEL, EXISTS: core requests one command may start
};

// One connection's state: what commands read and change.
struct Session {
  uint64_t id = 0;              // CLIENT ID
  std::string peer;             // the client's address and port, for CLIENT INFO
  std::string address;          // the client's IP address: failed AUTHs are limited per address
  std::string name;             // CLIENT SETNAME
  Version version = Version::resp2;
  std::optional<int64_t> n, r, w;  // QUORUM: the connection's defaults (unset: the node's)
  security::Credentials credentials;  // AUTH's, once the node accepted them: sent with every command
};

struct Step {
  std::string reply;                         // with no requests: the command's whole reply
  std::vector<core::ClientRequest> requests;  // else: submit these...
  // ...or, for AUTH and HELLO AUTH, have the node check these credentials (one answer)...
  std::optional<security::Credentials> authenticate = std::nullopt;
  // ...and call this once with their answers, in the same order, for the next step.
  std::function<Step(std::vector<core::ClientResponse>)> then;
  bool close = false;  // close the connection once the reply is written (QUIT)
};

// Carries out one command (its name is case-insensitive). Changes `session` for HELLO, CLIENT
// SETNAME, QUORUM and AUTH (a Step's `then` may change it later: the session must outlive it).
// AUTH <token> presents an API token, AUTH <user> <password> a user's password. Never throws; a command it does not know answers `-ERR unknown command`.
Step execute(const std::vector<std::string>& command, Session& session, const CommandLimits& limits,
             const InfoFn& info);

// The keys a command reads or writes, so that a connection runs the commands of one key in the
// order it sent them (a pipelined GET after a SET of its key sees the SET), while commands on
// other keys run at once. `all`: the command reads every key (SCAN), so it waits for every
// command before it and holds back every command after it.
struct CommandKeys {
  std::vector<std::string> keys;
  bool all = false;
};
CommandKeys command_keys(const std::vector<std::string>& command);

// The reply to a protocol error; the connection closes after it.
std::string protocol_error_reply(std::string_view what);

// SCAN's cursor for a listing that goes on after `last_key`: decimal digits, since client
// libraries read a cursor as a number (redis-py int()s it): "1", then each byte as three digits.
// Never "0", which starts and ends a scan. Keys of up to 6 bytes give cursors that fit 64 bits;
// longer keys give longer numbers, which clients that keep cursors as text or big integers take
// (redis-py, Jedis, Lettuce, ioredis, redis-cli's SCAN) and those that parse them as 64-bit
// integers (go-redis, redis-cli --scan) do not (docs/api.md says so).
std::string encode_scan_cursor(std::string_view last_key);
// The key a cursor names; nullopt for text no SCAN handed out.
std::optional<std::string> decode_scan_cursor(std::string_view cursor);

}  // namespace md::net::resp
