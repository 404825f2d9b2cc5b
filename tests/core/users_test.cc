#include "core/users.h"

#include <gtest/gtest.h>

#include "core/messages.h"

namespace md::core {
namespace {

ClientRequest request(Op op, std::string key) {
  ClientRequest r;
  r.op = op;
  r.key = std::move(key);
  return r;
}

TEST(Users, permissions_are_named_and_unknown_words_refused) {
  EXPECT_EQ(*parse_permissions("read,write"), Permission::read | Permission::write);
  EXPECT_EQ(*parse_permissions("all"), kAllPermissions);
  EXPECT_EQ(permission_names(*parse_permissions("list,delete")), "delete,list");
  auto bad = parse_permissions("read,wirte");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("'wirte'"), std::string::npos);
  EXPECT_FALSE(parse_permissions("").is_ok());
}

TEST(Users, a_prefix_grant_allows_its_keys_and_refuses_others) {
  User user;
  user.grants["app/"] = Permission::read | Permission::write | Permission::list;
  EXPECT_TRUE(allowed(user, access_needed(request(Op::get, "app/x"))));
  EXPECT_TRUE(allowed(user, access_needed(request(Op::put, "app/x"))));
  EXPECT_FALSE(allowed(user, access_needed(request(Op::del, "app/x"))));  // not granted
  EXPECT_FALSE(allowed(user, access_needed(request(Op::get, "other/x"))));
  EXPECT_FALSE(allowed(user, access_needed(request(Op::get, "app"))));  // shorter than the prefix
  // Listing needs the grant on the whole listed prefix: "app/a" yes, "" (every key) no.
  EXPECT_TRUE(allowed(user, access_needed(request(Op::list, "app/a"))));
  EXPECT_FALSE(allowed(user, access_needed(request(Op::list, ""))));
  EXPECT_FALSE(allowed(user, access_needed(request(Op::inspect, "app/x"))));  // admin's
  user.grants[""] = Permission::admin;
  EXPECT_TRUE(allowed(user, access_needed(request(Op::inspect, "app/x"))));
  EXPECT_FALSE(allowed(user, access_needed(request(Op::get, "other/x"))));  // admin is not read
}

TEST(Users, names_and_grants_are_checked) {
  EXPECT_TRUE(validate_user_name("alice@example.com").is_ok());
  EXPECT_FALSE(validate_user_name("").is_ok());
  EXPECT_FALSE(validate_user_name("a b").is_ok());
  EXPECT_FALSE(validate_user_name(std::string(65, 'a')).is_ok());
  Users users;
  users["ops"].grants["app/"] = Permission::admin;
  EXPECT_FALSE(validate(users).is_ok());  // admin on a prefix would read as less than it is
  users["ops"].grants = {{"", Permission::admin}};
  EXPECT_TRUE(validate(users).is_ok());
  users["ops"].grants = {{"", 0}};
  EXPECT_FALSE(validate(users).is_ok());
}

TEST(Users, merge_keeps_the_highest_revision_and_a_removal_stays) {
  Users a, b;
  a["alice"].revision = 2;
  a["alice"].grants["app/"] = Permission::read;
  b["alice"].revision = 3;
  b["alice"].removed = true;
  Users ab = a, ba = b;
  EXPECT_TRUE(merge_users(ab, b));
  EXPECT_FALSE(merge_users(ba, a));  // the older record changes nothing
  EXPECT_EQ(ab, ba);
  EXPECT_EQ(find_user(ab, "alice"), nullptr);
  EXPECT_FALSE(merge_users(ab, ab));
}

}  // namespace
}  // namespace md::core
