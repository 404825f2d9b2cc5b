#include "runtime/gate.h"

#include <boost/asio/post.hpp>

#include "security/credentials.h"

namespace md::runtime {

namespace asio = boost::asio;

Gate::Gate(asio::io_context& io, bool enforced, std::function<const core::Users&()> users,
           std::function<uint64_t()> now_ms, security::FailureLimits limits)
    : mailbox_(net::Mailbox::of(io)), enforced_(enforced), users_(std::move(users)), now_ms_(std::move(now_ms)), limiter_(limits) {
  if (enforced_) unknown_user_hash_ = security::hash_password("no such user");
}

Gate::~Gate() { hashing_.join(); }

void Gate::refuse(net::Protocol protocol, Refusal kind, Verdict verdict, const Then& then) {
  ++counters_[static_cast<size_t>(protocol)][kind];
  then(std::move(verdict));
}

void Gate::refuse_credentials(const net::Caller& caller, const Then& then) {
  limiter_.failed(caller.address, now_ms_());
  const std::string what = !caller.malformed.empty() ? caller.malformed
                           : caller.credentials.kind == security::Credentials::Kind::token
                               ? "the token is not valid (revoked, or never made)"
                               : "wrong user name or password";
  refuse(caller.protocol, wrong_credentials, {core::Outcome::unauthenticated, what, {}, 0}, then);
}

void Gate::authenticate(const net::Caller& caller, Then then) {
  if (!enforced_) return then({});
  using Kind = security::Credentials::Kind;
  if (!caller.malformed.empty()) return refuse_credentials(caller, then);
  if (caller.credentials.kind == Kind::none) {
    return refuse(caller.protocol, no_credentials,
                  {core::Outcome::unauthenticated,
                   "this node requires credentials: a user's password (HTTP Basic, RESP AUTH user password) or an API "
                   "token (HTTP Bearer, RESP AUTH token); see docs/security.md",
                   {},
                   0},
                  then);
  }
  if (const uint64_t wait = limiter_.wait_ms(caller.address, now_ms_()); wait > 0) {
    return refuse(caller.protocol, rate_limited,
                  {core::Outcome::rate_limited,
                   "too many failed attempts from " + caller.address + "; try again in " + std::to_string(wait) + " ms",
                   {},
                   wait},
                  then);
  }
  const core::Users& users = users_();
  if (caller.credentials.kind == Kind::token) {
    const std::string id = security::token_id(caller.credentials.secret);
    for (const auto& [name, user] : users) {
      auto token = user.tokens.find(id);
      if (id.empty() || user.removed || token == user.tokens.end()) continue;
      if (!security::verify_token(caller.credentials.secret, token->second)) break;
      return then({core::Outcome::ok, {}, name, 0});
    }
    return refuse_credentials(caller, then);
  }
  const core::User* user = core::find_user(users, caller.credentials.user);
  const std::string& hash = user && !user->password_hash.empty() ? user->password_hash : unknown_user_hash_;
  if (auto known = verified_.find(caller.credentials.user);
      user && known != verified_.end() && known->second.first == hash &&
      security::equal_in_constant_time(known->second.second, security::process_digest(caller.credentials.secret))) {
    return then({core::Outcome::ok, {}, caller.credentials.user, 0});
  }
  const bool exists = user != nullptr && !user->password_hash.empty();
  // `then` moves on with the verdict: it may hold a connection, which only the io thread may let go.
  asio::post(hashing_, [this, caller, hash, exists, then = std::move(then)]() mutable {
    const bool right = security::verify_password(caller.credentials.secret, hash) && exists;
    mailbox_.post([this, caller, hash, right, then = std::move(then)] { password_checked(caller, hash, right, then); });
  });
}

void Gate::password_checked(const net::Caller& caller, const std::string& hash, bool right, const Then& then) {
  if (!right) return refuse_credentials(caller, then);
  // The record may have changed while scrypt ran: only the current one counts. A removal refuses; a
  // new hash is checked in its turn (a new password, or the same one under another salt, as when
  // several nodes started with --admin-password-file each made the first admin and gossip kept one).
  const core::User* user = core::find_user(users_(), caller.credentials.user);
  if (user == nullptr) return refuse_credentials(caller, then);
  if (user->password_hash != hash) return authenticate(caller, then);
  verified_[caller.credentials.user] = {hash, security::process_digest(caller.credentials.secret)};
  then({core::Outcome::ok, {}, caller.credentials.user, 0});
}

void Gate::admit(const net::Caller& caller, core::Permission permission, std::string key, Then then) {
  authenticate(caller, [this, protocol = caller.protocol, permission, key = std::move(key),
                        then = std::move(then)](Verdict verdict) {
    if (!enforced_ || verdict.outcome != core::Outcome::ok) return then(std::move(verdict));
    const core::User* user = core::find_user(users_(), verdict.user);
    if (user != nullptr && core::allowed(*user, core::Access{permission, key})) return then(std::move(verdict));
    const std::string what = permission == core::Permission::admin ? "do cluster operations: that needs the admin grant"
                             : permission == core::Permission::list
                                 ? "list keys under '" + key + "': no grant covers it"
                                 : core::permission_names(permission) + " key '" + key + "': no grant covers it";
    refuse(protocol, forbidden, {core::Outcome::forbidden, "user " + verdict.user + " may not " + what, verdict.user, 0},
           then);
  });
}

}  // namespace md::runtime
