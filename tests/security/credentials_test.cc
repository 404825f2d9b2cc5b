#include "security/credentials.h"

#include <gtest/gtest.h>

namespace md::security {
namespace {

TEST(Credentials, basic_and_bearer_headers_are_read_and_malformed_ones_refused) {
  auto basic = parse_authorization("Basic YWxpY2U6czNjcjN0OndpdGg6Y29sb25z");  // alice:s3cr3t:with:colons
  ASSERT_TRUE(basic.is_ok());
  EXPECT_EQ(*basic, (Credentials{Credentials::Kind::password, "alice", "s3cr3t:with:colons"}));
  EXPECT_EQ(parse_authorization("basic YTpi")->user, "a");  // a:b; the scheme in any case
  auto bearer = parse_authorization("Bearer mdt_x");
  ASSERT_TRUE(bearer.is_ok());
  EXPECT_EQ(bearer->kind, Credentials::Kind::token);
  EXPECT_EQ(bearer->secret, "mdt_x");
  EXPECT_EQ(parse_authorization("")->kind, Credentials::Kind::none);
  for (const Credentials& c : {Credentials{Credentials::Kind::password, "bob", "pa:ss wörd"},
                               Credentials{Credentials::Kind::password, "b", ""},
                               Credentials{Credentials::Kind::token, {}, "mdt_1_2"}}) {
    EXPECT_EQ(*parse_authorization(authorization_header(c)), c);  // the two are inverses
  }
  for (const char* bad : {"Basic", "Basic !!!!", "Basic YWxpY2U=" /* no colon */, "Digest abc", "Bearer",
                          "Basic Og==" /* ":" : no user */}) {
    auto parsed = parse_authorization(bad);
    EXPECT_FALSE(parsed.is_ok()) << bad;
  }
  // The error never repeats what was sent.
  auto refused = parse_authorization("Basic c2VjcmV0cGFzc3dvcmQ=");  // "secretpassword", no colon
  ASSERT_FALSE(refused.is_ok());
  EXPECT_EQ(refused.status().message().find("secretpassword"), std::string::npos);
}

TEST(Credentials, a_password_verifies_against_its_salted_hash_only) {
  const std::string hash = hash_password("correct horse");
  EXPECT_TRUE(hash.starts_with("scrypt$15$8$1$"));
  EXPECT_EQ(hash.find("correct"), std::string::npos);
  EXPECT_TRUE(verify_password("correct horse", hash));
  EXPECT_FALSE(verify_password("correct horsf", hash));
  EXPECT_FALSE(verify_password("", hash));
  EXPECT_NE(hash_password("correct horse"), hash);  // a new salt each time
  for (const char* bad : {"", "scrypt$15$8$1$zz$00", "pbkdf2$1$2$3$4$5", "scrypt$99$8$1$00$00"}) {
    EXPECT_FALSE(verify_password("correct horse", bad)) << bad;
  }
  // A hash made under other (cheaper) parameters is read back by them.
  std::string cheap = hash;
  cheap.replace(0, 10, "scrypt$10$");
  EXPECT_FALSE(verify_password("correct horse", cheap));  // same salt and key, other cost: another key
}

TEST(Credentials, a_token_names_its_id_and_verifies_against_its_digest) {
  const NewToken t = new_token();
  EXPECT_EQ(token_id(t.token), t.id);
  EXPECT_EQ(t.token.find(t.digest), std::string::npos);
  EXPECT_TRUE(verify_token(t.token, t.digest));
  std::string forged = t.token;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(token_id(forged), t.id);
  EXPECT_FALSE(verify_token(forged, t.digest));
  EXPECT_NE(new_token().token, t.token);
  for (const char* bad : {"", "mdt_", "mdt_abc_def", "xyz_0123456789abcdef_00"}) EXPECT_EQ(token_id(bad), "") << bad;
}

}  // namespace
}  // namespace md::security
