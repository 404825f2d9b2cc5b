#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <rapidcheck/gtest.h>

#include "core/context_token.h"
#include "core/object_codec.h"

namespace md::core {
namespace {

DvvSet sample() {
  DvvSet x;
  x.update({}, "node_5001", false, "{\"name\":\"Alice\"}");
  VersionVector ctx = x.context();
  x.update({}, "node_5002", false, "42");
  x.update(ctx, "node_5001", true, "");
  return x;
}

TEST(ObjectCodec, round_trips) {
  DvvSet x = sample();
  auto bytes = encode_object(x);
  auto back = decode_object(bytes);
  ASSERT_TRUE(back.is_ok()) << back.status().message();
  EXPECT_EQ(*back, x);
  EXPECT_EQ(encode_object(*back), bytes);  // canonical: equal objects have equal bytes
}

TEST(ObjectCodec, rejects_every_truncation_and_trailing_bytes) {
  auto bytes = encode_object(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(decode_object(bytes.substr(0, n)).is_ok()) << n;
  }
  EXPECT_EQ(decode_object(bytes + "x").status().code(), Code::corruption);
  std::string wrong_version = bytes;
  wrong_version[0] = 9;
  EXPECT_FALSE(decode_object(wrong_version).is_ok());
}

RC_GTEST_PROP(ObjectCodec, garbage_never_crashes_the_decoder, (std::string garbage)) {
  auto result = decode_object(garbage);
  if (result.is_ok()) RC_ASSERT(decode_object(encode_object(*result)).is_ok());
}

TEST(ObjectCodec, a_deleted_object_reports_its_largest_counter_without_decoding) {
  DvvSet x = sample();  // a live value of node_5002 beside a tombstone
  EXPECT_EQ(deleted_object_counter(encode_object(x)), std::nullopt);
  x.update(x.context(), "node_5002", true, "");  // deletes what it saw: (node_5001,2) and (node_5002,1)
  ASSERT_TRUE(x.deleted());
  EXPECT_EQ(deleted_object_counter(encode_object(x)), 2u);
  x.update(x.context(), "node_5003", true, "");
  for (int i = 0; i < 6; ++i) x.update(x.context(), "node_5003", true, "");
  EXPECT_EQ(deleted_object_counter(encode_object(x)), 7u);
  auto bytes = encode_object(x);
  EXPECT_EQ(deleted_object_counter(bytes.substr(0, bytes.size() - 1)), std::nullopt);  // truncated
  EXPECT_EQ(deleted_object_counter(""), std::nullopt);
}

RC_GTEST_PROP(ObjectCodec, garbage_never_crashes_the_deleted_check, (std::string garbage)) {
  auto counter = deleted_object_counter(garbage);
  auto decoded = decode_object(garbage);
  if (decoded.is_ok()) RC_ASSERT(counter.has_value() == decoded->deleted());
}

TEST(ObjectCodec, without_values_keeps_dots_contexts_and_tombstones_and_drops_every_value) {
  DvvSet x = sample();
  // Two siblings under one dot (a collision), ordered by their values: the strip must reorder them.
  Sibling a{{"node_9", 1}, VersionVector(), false, "b"};
  Sibling b{{"node_9", 1}, x.context(), false, "a"};
  VersionVector context = x.context();
  context.raise("node_9", 1);
  std::vector<Sibling> siblings = x.siblings();
  siblings.push_back(a);
  siblings.push_back(b);
  std::sort(siblings.begin(), siblings.end(), sibling_order);
  const DvvSet collided = DvvSet::from_parts(context, siblings);
  for (const DvvSet& object : {x, collided}) {
    auto stripped = without_values(encode_object(object));
    ASSERT_TRUE(stripped.has_value());
    auto back = decode_object(*stripped);
    ASSERT_TRUE(back.is_ok()) << back.status().message();
    EXPECT_EQ(back->context(), object.context());
    EXPECT_EQ(back->deleted(), object.deleted());
    for (const auto& s : back->siblings()) EXPECT_EQ(s.value, "");
    std::set<Dot> dots, kept;
    for (const auto& s : object.siblings()) dots.insert(s.dot);
    for (const auto& s : back->siblings()) kept.insert(s.dot);
    EXPECT_EQ(kept, dots);
  }
  EXPECT_EQ(without_values("garbage"), std::nullopt);
}

TEST(ContextToken, round_trips_and_is_url_safe) {
  VersionVector vv;
  vv.raise("node_5001", 3);
  vv.raise("node_5002", 300000);
  auto token = encode_context_token(vv);
  EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
            std::string::npos);
  auto back = decode_context_token(token);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, vv);
  EXPECT_TRUE(decode_context_token(encode_context_token({})).is_ok());
}

TEST(ContextToken, malformed_tokens_are_clear_errors) {
  auto token = encode_context_token(sample().context());
  std::string flipped = token;
  flipped[3] = flipped[3] == 'A' ? 'B' : 'A';
  for (const std::string& bad : {std::string("not a token!"), std::string("AAAA"), flipped, token.substr(1),
                                 token + "A", std::string("a")}) {
    auto r = decode_context_token(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_EQ(r.status().code(), Code::invalid_argument);
    EXPECT_NE(r.status().message().find("context token is malformed"), std::string::npos);
  }
}

}  // namespace
}  // namespace md::core
