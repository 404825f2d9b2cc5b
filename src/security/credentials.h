// Credentials: what a client presents (a user's password, or an API token), how they are read from
// the protocols (HTTP's and gRPC's `authorization`, RESP's AUTH), and how the secrets are kept.
//
// Promises:
//  - A password is kept only as scrypt (N=2^15, r=8, p=1: about 0.1 s and 32 MiB to compute, so a
//    stolen cluster state is slow to attack) of it with a random 16-byte salt, encoded as
//    "scrypt$15$8$1$<salt hex>$<key hex>".
//  - A token is "mdt_<id>_<secret>" (id: 16 hex digits, secret: 256 random bits as hex); only
//    SHA-256 of the whole token is kept, under its id. A token is as long-lived as its record;
//    it is shown once, when it is made.
//  - Every comparison of a secret or its digest takes the same time whatever the bytes
//    (CRYPTO_memcmp). No function here logs, and no error message repeats a secret.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace md::security {

struct Credentials {
  enum class Kind { none, password, token };
  Kind kind = Kind::none;
  std::string user;    // Kind::password
  std::string secret;  // the password, or the whole token
  bool operator==(const Credentials&) const = default;
};

// An `Authorization` header's value (HTTP, gRPC metadata): "Basic base64(user:password)" or
// "Bearer <token>" (scheme names in any case); "" is Kind::none. Errors say what is malformed,
// never what the secret was.
Result<Credentials> parse_authorization(std::string_view header);

// The `Authorization` header's value that presents `credentials` (the inverse of the above).
std::string authorization_header(const Credentials& credentials);

// A secret kept in a file (a password file), its trailing newline dropped. Errors: "PATH cannot be
// read", "PATH is empty" (the caller names the flag).
Result<std::string> read_secret_file(const std::string& path);

// A new salted scrypt hash of `password`, in the encoding above.
std::string hash_password(std::string_view password);
// True if `password` is the one `encoded` was made from; false too for an encoding not ours.
bool verify_password(std::string_view password, std::string_view encoded);

struct NewToken {
  std::string id;      // what the user record keeps it under (and what revoking names)
  std::string token;   // what the client presents; never kept
  std::string digest;  // what the user record keeps
};
NewToken new_token();
// The id in a token's text; empty if the text is not a token of ours.
std::string token_id(std::string_view token);
// True if `token` is the one `digest` was made from.
bool verify_token(std::string_view token, std::string_view digest);

// A digest of `secret` under a key drawn once per process (HMAC-SHA256): lets a process remember
// that it verified a secret without keeping the secret, or anything that verifies it elsewhere.
std::string process_digest(std::string_view secret);

// `a` and `b` compared in time that depends on their lengths only.
bool equal_in_constant_time(std::string_view a, std::string_view b);

}  // namespace md::security
