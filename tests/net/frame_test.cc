#include "net/frame.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace md::net {
namespace {

TEST(Frame, round_trips_fed_byte_by_byte_and_many_at_once) {
  std::string wire = encode_frame("hello") + encode_frame("") + encode_frame(std::string(70000, 'x'));
  FrameDecoder bytewise(1 << 20);
  std::vector<std::string> got;
  for (char c : wire) {
    bytewise.feed(&c, 1);
    while (true) {
      auto f = bytewise.next();
      ASSERT_TRUE(f.is_ok());
      if (!*f) break;
      got.push_back(**f);
    }
  }
  EXPECT_EQ(got, (std::vector<std::string>{"hello", "", std::string(70000, 'x')}));
  FrameDecoder at_once(1 << 20);
  at_once.feed(wire.data(), wire.size());
  EXPECT_EQ(**at_once.next(), "hello");
  EXPECT_EQ(**at_once.next(), "");
  EXPECT_EQ((*at_once.next())->size(), 70000u);
  EXPECT_FALSE(at_once.next()->has_value());
}

TEST(Frame, a_corrupted_payload_fails_the_checksum_and_stays_failed) {
  std::string wire = encode_frame("payload");
  wire[kFrameHeaderBytes + 2] ^= 1;
  FrameDecoder d(1024);
  d.feed(wire.data(), wire.size());
  EXPECT_EQ(d.next().status().code(), Code::corruption);
  std::string good = encode_frame("ok");
  d.feed(good.data(), good.size());
  EXPECT_FALSE(d.next().is_ok());
}

TEST(Frame, an_oversized_length_is_refused_before_its_body_arrives) {
  std::string header = encode_frame(std::string(2000, 'x')).substr(0, kFrameHeaderBytes);
  FrameDecoder d(1000);
  d.feed(header.data(), header.size());
  EXPECT_EQ(d.next().status().code(), Code::too_large);
}

RC_GTEST_PROP(Frame, garbage_never_crashes_the_decoder, (std::string garbage)) {
  FrameDecoder d(4096);
  d.feed(garbage.data(), garbage.size());
  for (int i = 0; i < 100; ++i) {
    auto f = d.next();
    if (!f.is_ok() || !*f) break;
  }
}

}  // namespace
}  // namespace md::net
