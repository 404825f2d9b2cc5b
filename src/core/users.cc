#include "core/users.h"

#include <algorithm>
#include <array>
#include <utility>

#include "core/messages.h"

namespace md::core {

namespace {

constexpr std::array<std::pair<const char*, Permission>, 5> kNames = {
    {{"read", Permission::read}, {"write", Permission::write}, {"delete", Permission::del},
     {"list", Permission::list}, {"admin", Permission::admin}}};

}  // namespace

Result<Permissions> parse_permissions(std::string_view names) {
  Permissions bits = 0;
  while (!names.empty()) {
    const size_t comma = names.find(',');
    const std::string_view word = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view() : names.substr(comma + 1);
    if (word == "all") {
      bits |= kAllPermissions;
      continue;
    }
    auto it = std::find_if(kNames.begin(), kNames.end(), [&](const auto& n) { return word == n.first; });
    if (it == kNames.end()) {
      return Status::invalid_argument("'" + std::string(word) +
                                      "' is not a permission: use read, write, delete, list, admin or all, separated by commas");
    }
    bits |= it->second;
  }
  if (bits == 0) return Status::invalid_argument("no permission named: use read, write, delete, list, admin or all");
  return bits;
}

std::string permission_names(Permissions permissions) {
  std::string out;
  for (const auto& [name, bit] : kNames) {
    if ((permissions & bit) == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
  }
  return out;
}

Status validate_user_name(std::string_view name) {
  constexpr size_t kNameBytesMax = 64;
  auto fits = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@';
  };
  if (name.empty() || name.size() > kNameBytesMax || !std::all_of(name.begin(), name.end(), fits)) {
    return Status::invalid_argument("a user name is 1 to 64 letters, digits, '.', '_', '-' or '@', got '" +
                                    std::string(name.substr(0, kNameBytesMax)) + "'");
  }
  return Status::ok();
}

Status validate(const Users& users) {
  for (const auto& [name, user] : users) {
    if (auto valid = validate_user_name(name); !valid.is_ok()) return valid;
    for (const auto& [prefix, permissions] : user.grants) {
      if ((permissions & ~kAllPermissions) != 0 || permissions == 0) {
        return Status::invalid_argument("user " + name + ": a grant with unknown permission bits");
      }
      if ((permissions & Permission::admin) != 0 && !prefix.empty()) {
        return Status::invalid_argument("user " + name + ": admin is granted on every key (the empty prefix) only");
      }
    }
  }
  return Status::ok();
}

bool merge_users(Users& into, const Users& other) {
  bool changed = false;
  for (const auto& [name, user] : other) {
    auto [it, added] = into.emplace(name, user);
    if (!added && it->second < user) {  // revision first: it is the first member
      it->second = user;
      added = true;
    }
    changed |= added;
  }
  return changed;
}

const User* find_user(const Users& users, std::string_view name) {
  auto it = users.find(std::string(name));
  return it == users.end() || it->second.removed ? nullptr : &it->second;
}

Access access_needed(const ClientRequest& request) {
  switch (request.op) {
    case Op::get: return {Permission::read, request.key};
    case Op::put: return {Permission::write, request.key};
    case Op::del: return {Permission::del, request.key};
    case Op::list: return {Permission::list, request.key};
    case Op::inspect: return {Permission::admin, {}};  // every replica's copy and its version vector
  }
  return {Permission::admin, {}};
}

bool allowed(const User& user, const Access& access) {
  // Grants are few per user; a prefix map can't be searched by "starts the key" any faster.
  return std::any_of(user.grants.begin(), user.grants.end(), [&](const auto& grant) {
    return (grant.second & access.permission) != 0 && access.key.starts_with(grant.first);
  });
}

}  // namespace md::core
