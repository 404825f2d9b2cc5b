#include "net/frame.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace md::net {
namespace {

// Drains every complete payload; fails the test on a decode error.
std::vector<std::string> drain(FrameDecoder& d) {
  std::vector<std::string> out;
  for (;;) {
    auto r = d.next();
    EXPECT_TRUE(r.is_ok()) << r.status().message();
    if (!r.is_ok() || !r->has_value()) return out;
    out.push_back(std::move(**r));
  }
}

TEST(FrameTest, round_trip_returns_the_payload) {
  const std::string payload = "hello, peer";
  const std::string frame = encode_frame(payload);
  ASSERT_EQ(frame.size(), kFrameHeaderBytes + payload.size());
  FrameDecoder d(1024);
  d.feed(frame.data(), frame.size());
  EXPECT_EQ(drain(d), std::vector<std::string>{payload});
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(FrameTest, header_is_little_endian_length_then_xxh32) {
  const std::string frame = encode_frame("abc");
  EXPECT_EQ(static_cast<unsigned char>(frame[0]), 3);
  EXPECT_EQ(frame[1], 0);
  EXPECT_EQ(frame[2], 0);
  EXPECT_EQ(frame[3], 0);
  // XXH32("abc", seed 0) = 0x32D153FF (reference value from the xxHash test vectors).
  EXPECT_EQ(static_cast<unsigned char>(frame[4]), 0xFF);
  EXPECT_EQ(static_cast<unsigned char>(frame[7]), 0x32);
}

TEST(FrameTest, byte_at_a_time_feeding_yields_each_payload_once) {
  const std::vector<std::string> payloads = {"one", "", std::string(300, 'x'), "four"};
  std::string stream;
  for (const auto& p : payloads) stream += encode_frame(p);
  FrameDecoder d(1024);
  std::vector<std::string> got;
  for (char c : stream) {
    d.feed(&c, 1);
    for (auto& p : drain(d)) got.push_back(std::move(p));
  }
  EXPECT_EQ(got, payloads);
}

TEST(FrameTest, many_frames_in_one_feed_all_decode_in_order) {
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 1000; ++i) {
    payloads.push_back("message-" + std::to_string(i));
    stream += encode_frame(payloads.back());
  }
  FrameDecoder d(1024);
  d.feed(stream.data(), stream.size());
  EXPECT_EQ(drain(d), payloads);
}

TEST(FrameTest, zero_length_payload_round_trips) {
  const std::string frame = encode_frame("");
  EXPECT_EQ(frame.size(), kFrameHeaderBytes);
  FrameDecoder d(0);
  d.feed(frame.data(), frame.size());
  auto r = d.next();
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, "");
}

TEST(FrameTest, corrupted_checksum_fails_and_decoder_stays_failed) {
  std::string frame = encode_frame("payload");
  frame[kFrameHeaderBytes + 2] ^= 0x01;  // flip one payload bit
  const std::string good = encode_frame("good");
  FrameDecoder d(1024);
  d.feed(frame.data(), frame.size());
  auto r = d.next();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::corruption);
  EXPECT_TRUE(d.failed());
  d.feed(good.data(), good.size());  // a good frame afterwards does not revive it
  auto again = d.next();
  ASSERT_FALSE(again.is_ok());
  EXPECT_EQ(again.status().code(), Code::corruption);
}

TEST(FrameTest, oversized_length_is_rejected_before_the_body_arrives) {
  const std::string frame = encode_frame(std::string(2000, 'y'));
  FrameDecoder d(1999);
  d.feed(frame.data(), kFrameHeaderBytes - 1);
  auto partial = d.next();
  ASSERT_TRUE(partial.is_ok());
  EXPECT_FALSE(partial->has_value());
  d.feed(frame.data() + kFrameHeaderBytes - 1, 1);  // header complete, no body yet
  auto r = d.next();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::too_large);
  EXPECT_TRUE(d.failed());
}

TEST(FrameTest, payload_exactly_at_the_max_is_accepted) {
  const std::string payload(64, 'z');
  const std::string frame = encode_frame(payload);
  FrameDecoder d(64);
  d.feed(frame.data(), frame.size());
  EXPECT_EQ(drain(d), std::vector<std::string>{payload});
}

}  // namespace
}  // namespace md::net
