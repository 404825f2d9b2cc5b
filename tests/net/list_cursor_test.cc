// The opaque cursor of key listings: any key round-trips, and text no listing handed out is refused.
#include "net/list_cursor.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace md::net {
namespace {

RC_GTEST_PROP(ListCursor, every_key_round_trips_through_printable_text_that_is_never_zero, (std::string key)) {
  const std::string cursor = encode_list_cursor(key);
  RC_ASSERT(cursor != "0");
  for (char c : cursor) RC_ASSERT((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'));
  auto back = decode_list_cursor(cursor);
  RC_ASSERT(back.is_ok());
  RC_ASSERT(*back == key);
}

TEST(ListCursor, text_that_no_listing_handed_out_is_refused_with_a_clear_error) {
  for (const char* bad : {"", "0", "k0", "kzz", "x00", "k0g"}) {
    auto key = decode_list_cursor(bad);
    ASSERT_FALSE(key.is_ok()) << bad;
    EXPECT_NE(key.status().message().find("not one a listing handed out"), std::string::npos);
  }
  EXPECT_EQ(decode_list_cursor("k").value(), "");
  EXPECT_EQ(decode_list_cursor("k6b31").value(), "k1");
}

}  // namespace
}  // namespace md::net
