// The gate on its own: an io_context the test runs, users the test changes, and a clock it moves.
// What the real-process tests (tests/cluster/test_security.py) cannot see: which answers come at
// once and which after scrypt, and that a change to a user made while scrypt runs is what counts.
#include "runtime/gate.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <optional>

#include "security/credentials.h"

namespace md::runtime {
namespace {

using security::Credentials;

class GateTest : public ::testing::Test {
 protected:
  GateTest() {
    core::User alice;
    alice.password_hash = security::hash_password("right");
    alice.grants["app/"] = core::Permission::read;
    users_["alice"] = alice;
  }

  Gate make(bool enforced, security::FailureLimits limits = {}) {
    return Gate(io_, enforced, [this]() -> const core::Users& { return users_; }, [this] { return now_ms_; }, limits);
  }
  static net::Caller caller(Credentials credentials, std::string address = "10.0.0.1") {
    return net::Caller{net::Protocol::http, std::move(address), std::move(credentials)};
  }
  static Credentials password(std::string user, std::string secret) {
    return {Credentials::Kind::password, std::move(user), std::move(secret)};
  }
  // The verdict if it came at once (nullopt if it waits for scrypt).
  std::optional<Gate::Verdict> now(Gate& gate, const net::Caller& c) {
    std::optional<Gate::Verdict> verdict;
    gate.authenticate(c, [&](Gate::Verdict v) { verdict = std::move(v); });
    return verdict;
  }
  // The verdict once scrypt (if any) is done.
  Gate::Verdict eventually(Gate& gate, const net::Caller& c, core::Permission permission = core::Permission::read,
                           std::string key = "app/k") {
    std::optional<Gate::Verdict> verdict;
    gate.admit(c, permission, std::move(key), [&](Gate::Verdict v) { verdict = std::move(v); });
    while (!verdict) io_.run_one();  // blocks until the gate's thread posts the answer (work_ keeps io_ waiting)
    return *verdict;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ = boost::asio::make_work_guard(io_);
  core::Users users_;
  uint64_t now_ms_ = 0;
};

TEST_F(GateTest, off_lets_everyone_through_as_nobody) {
  Gate gate = make(false);
  auto verdict = now(gate, caller({}));
  ASSERT_TRUE(verdict);
  EXPECT_EQ(verdict->outcome, core::Outcome::ok);
  EXPECT_EQ(verdict->user, "");
}

TEST_F(GateTest, a_password_is_checked_once_then_remembered_until_it_changes) {
  Gate gate = make(true);
  EXPECT_EQ(now(gate, caller({}))->outcome, core::Outcome::unauthenticated);
  EXPECT_FALSE(now(gate, caller(password("alice", "right"))));  // scrypt, on the gate's thread
  EXPECT_EQ(eventually(gate, caller(password("alice", "right"))).user, "alice");
  auto remembered = now(gate, caller(password("alice", "right")));
  ASSERT_TRUE(remembered);  // at once: no scrypt
  EXPECT_EQ(remembered->outcome, core::Outcome::ok);
  EXPECT_FALSE(now(gate, caller(password("alice", "wrong"))));  // another password: checked
  users_["alice"].password_hash = security::hash_password("new");
  EXPECT_FALSE(now(gate, caller(password("alice", "right"))));  // the old one is no longer remembered
  EXPECT_EQ(eventually(gate, caller(password("alice", "right"))).outcome, core::Outcome::unauthenticated);
  EXPECT_EQ(eventually(gate, caller(password("nobody", "right"))).message, "wrong user name or password");
  EXPECT_EQ(gate.counters()[0][Gate::no_credentials], 1u);
  // "wrong", and the old password twice (each check started above ends as the io runs), "nobody".
  EXPECT_EQ(gate.counters()[0][Gate::wrong_credentials], 4u);
}

TEST_F(GateTest, a_change_made_while_scrypt_runs_is_what_counts) {
  Gate gate = make(true);
  std::optional<Gate::Verdict> verdict;
  gate.authenticate(caller(password("alice", "right")), [&](Gate::Verdict v) { verdict = std::move(v); });
  users_["alice"] = core::User{2, true, {}, {}, {}};  // removed before the answer is given
  while (!verdict) io_.run_one();
  EXPECT_EQ(verdict->outcome, core::Outcome::unauthenticated);
}

TEST_F(GateTest, a_password_rehashed_while_scrypt_runs_is_checked_against_the_new_hash) {
  Gate gate = make(true);
  std::optional<Gate::Verdict> verdict;
  gate.authenticate(caller(password("alice", "right")), [&](Gate::Verdict v) { verdict = std::move(v); });
  // Another salt for the same password: what gossip brings when two nodes each made the first admin.
  users_["alice"].password_hash = security::hash_password("right");
  while (!verdict) io_.run_one();
  EXPECT_EQ(verdict->outcome, core::Outcome::ok);
  EXPECT_EQ(verdict->user, "alice");

  verdict.reset();
  Gate fresh = make(true);  // one that does not remember the password yet
  fresh.authenticate(caller(password("alice", "right")), [&](Gate::Verdict v) { verdict = std::move(v); });
  users_["alice"].password_hash = security::hash_password("changed");  // a new password meanwhile
  while (!verdict) io_.run_one();
  EXPECT_EQ(verdict->outcome, core::Outcome::unauthenticated);
}

TEST_F(GateTest, grants_are_read_when_the_answer_is_given) {
  Gate gate = make(true);
  auto token = security::new_token();
  users_["alice"].tokens[token.id] = token.digest;
  const auto with_token = caller({Credentials::Kind::token, {}, token.token});
  EXPECT_EQ(eventually(gate, with_token).outcome, core::Outcome::ok);  // a token: no scrypt
  auto refused = eventually(gate, with_token, core::Permission::write, "app/k");
  EXPECT_EQ(refused.outcome, core::Outcome::forbidden);
  EXPECT_EQ(refused.message, "user alice may not write key 'app/k': no grant covers it");
  EXPECT_EQ(eventually(gate, with_token, core::Permission::list, "").message,
            "user alice may not list keys under '': no grant covers it");
  users_["alice"].grants.clear();  // revoked: the next request is refused
  EXPECT_EQ(eventually(gate, with_token).outcome, core::Outcome::forbidden);
  users_["alice"].tokens.clear();
  EXPECT_EQ(eventually(gate, with_token).outcome, core::Outcome::unauthenticated);
  EXPECT_EQ(gate.counters()[0][Gate::forbidden], 3u);
}

TEST_F(GateTest, an_address_that_failed_its_burst_is_refused_unchecked_until_it_has_waited) {
  Gate gate = make(true, {2, 1000, 100});
  for (int i = 0; i < 2; ++i) EXPECT_EQ(eventually(gate, caller(password("alice", "guess"))).outcome,
                                        core::Outcome::unauthenticated);
  auto limited = now(gate, caller(password("alice", "right")));  // at once, even the right password
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->outcome, core::Outcome::rate_limited);
  EXPECT_EQ(limited->retry_after_ms, 1000u);
  EXPECT_EQ(limited->message, "too many failed attempts from 10.0.0.1; try again in 1000 ms");
  EXPECT_EQ(eventually(gate, caller(password("alice", "right"), "10.0.0.2")).outcome, core::Outcome::ok);
  now_ms_ = 1000;
  EXPECT_EQ(eventually(gate, caller(password("alice", "right"))).outcome, core::Outcome::ok);
  EXPECT_EQ(gate.counters()[0][Gate::rate_limited], 1u);
}

}  // namespace
}  // namespace md::runtime
