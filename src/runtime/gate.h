// The gate every client request passes with --security on (docs/security.md), for every front
// end alike: who the caller is (security/credentials.h, checked against the users the cluster
// state carries), and whether one of their grants covers the request (core/users.h).
//
// Promises:
//  - Answers come on the node's thread. A token, and a password this process verified before
//    (remembered only as a keyed digest, and only while the user's record keeps the same hash),
//    are answered at once; a password not seen before is checked with scrypt (~0.1 s) on a thread
//    of the gate's own, so the node goes on serving meanwhile.
//  - A wrong user name costs the same scrypt as a wrong password, so answers do not tell which
//    users exist. Every failed attempt costs the client's address one from its bucket
//    (security/failure_limiter.h); while it is empty the address is answered rate_limited unchecked.
//  - Grants are read when the answer is given, so a revocation gossiped in is in force for the
//    next request, on every node, with no restart.
//  - Messages never repeat a secret.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "core/messages.h"
#include "core/users.h"
#include "net/client_call.h"
#include "net/mailbox.h"
#include "security/failure_limiter.h"

namespace md::runtime {

class Gate {
 public:
  // What the gate decided: Outcome::ok and the user, or a refusal (unauthenticated, forbidden,
  // rate_limited) with a message for the client and, for rate_limited, when to try again.
  struct Verdict {
    core::Outcome outcome = core::Outcome::ok;
    std::string message;
    std::string user;
    uint64_t retry_after_ms = 0;
  };
  using Then = std::function<void(Verdict)>;
  // Refusals, by protocol and kind.
  enum Refusal : uint8_t { no_credentials, wrong_credentials, rate_limited, forbidden, kRefusals };
  static constexpr const char* kRefusalNames[kRefusals] = {"no_credentials", "wrong_credentials", "rate_limited",
                                                           "forbidden"};
  using Counters = std::array<std::array<uint64_t, kRefusals>, net::kProtocols>;

  // `enforced` false: every caller is let through as nobody. `users` reads the cluster state's
  // users, `now_ms` the node's clock (both on the node's thread).
  Gate(boost::asio::io_context& io, bool enforced, std::function<const core::Users&()> users,
       std::function<uint64_t()> now_ms, security::FailureLimits limits = {});
  ~Gate();  // waits for the scrypt in progress
  Gate(const Gate&) = delete;
  Gate& operator=(const Gate&) = delete;

  bool enforced() const { return enforced_; }
  // Who the caller is.
  void authenticate(const net::Caller& caller, Then then);
  // Who the caller is, and whether their grants give `permission` on `key` (a key, or a listed
  // prefix; "" for admin).
  void admit(const net::Caller& caller, core::Permission permission, std::string key, Then then);
  const Counters& counters() const { return counters_; }

 private:
  void refuse(net::Protocol protocol, Refusal kind, Verdict verdict, const Then& then);
  void refuse_credentials(const net::Caller& caller, const Then& then);
  void password_checked(const net::Caller& caller, const std::string& hash, bool right, const Then& then);

  net::Mailbox& mailbox_;  // the io thread's: scrypt's verdicts come back through it
  const bool enforced_;
  std::function<const core::Users&()> users_;
  std::function<uint64_t()> now_ms_;
  security::FailureLimiter limiter_;
  std::string unknown_user_hash_;  // what a wrong user name is checked against (as long as a real one)
  // user -> the password hash it was verified under and process_digest(password)
  std::map<std::string, std::pair<std::string, std::string>> verified_;
  Counters counters_{};
  boost::asio::thread_pool hashing_{1};
};

}  // namespace md::runtime
