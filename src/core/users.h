// Users and their grants: who may do what to which keys (docs/security.md).
//
// The records are cluster metadata, carried in the cluster state by gossip (core/cluster_state.h),
// so every node knows every user and a change reaches every node in a few gossip rounds, with no
// restart. A change is made on one node (an admin request) under the user's next revision; merge
// keeps each user's highest revision, so nodes that have seen the same changes agree, in any order.
// A removed user stays as a record without credentials or grants, so that an older copy of it
// gossiped late cannot bring it back.
//
// Secrets are never here in the clear: a password is kept as a salted slow hash and a token as a
// digest of its secret, both made and checked by the runtime (security/credentials.h); the core
// only carries and compares them. Which permission a request needs, and whether a user's grants
// give it, is decided here, for every front end alike.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace md::core {

struct ClientRequest;  // core/messages.h, which includes this through the cluster state

// What a grant allows, as bits. `admin` is cluster-wide (user management, the key inspector): it is
// granted on the empty prefix only.
enum Permission : uint8_t { read = 1, write = 2, del = 4, list = 8, admin = 16 };
using Permissions = uint8_t;
inline constexpr Permissions kAllPermissions = read | write | del | list | admin;

// "read,write" -> bits; the error names the word that is not a permission. "all" is every one.
Result<Permissions> parse_permissions(std::string_view names);
// Bits -> "read,write,delete,list,admin" (in that order; "" for none).
std::string permission_names(Permissions permissions);

struct User {
  uint64_t revision = 0;  // raised by every change made to this user; merge keeps the highest
  bool removed = false;
  std::string password_hash;                  // security/credentials.h's encoding; empty: no password
  std::map<std::string, std::string> tokens;  // token id -> digest of its secret
  std::map<std::string, Permissions> grants;  // key prefix ("" = every key) -> what it allows
  auto operator<=>(const User&) const = default;
};
using Users = std::map<std::string, User>;

// A user name is 1 to 64 letters, digits, '.', '_', '-' or '@'; the error says what is wrong.
Status validate_user_name(std::string_view name);
// Checks users received from elsewhere (a peer, a file): names, and admin granted on "" only.
Status validate(const Users& users);

// Merges `other` into `into`: per user, the record of the higher revision (equal revisions, which
// only concurrent changes on two nodes make: the larger record, the same on every node). Returns
// true if `into` changed.
bool merge_users(Users& into, const Users& other);

// `name`'s live record, or nullptr if there is none or it was removed.
const User* find_user(const Users& users, std::string_view name);

// What a request needs: a permission on a key, or on every key under a prefix (listing).
struct Access {
  Permission permission = Permission::read;
  std::string_view key;  // or the listed prefix; "" for admin
};
Access access_needed(const ClientRequest& request);

// True if one of the user's grants gives `access`: a grant whose prefix starts the key (for a
// listing, the listed prefix) and that allows the permission.
bool allowed(const User& user, const Access& access);

}  // namespace md::core
