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

std::string json_like(size_t bytes) {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) out += "{\"id\":" + std::to_string(i) + ",\"city\":\"Lisbon\"},";
  out.resize(bytes);
  return out;
}

uint32_t header_word(const std::string& frame) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<unsigned char>(frame[i])) << (8 * i);
  return v;
}

TEST(FrameTest, compressed_frames_round_trip_with_every_peer_codec) {
  const std::string payload = json_like(5000);
  for (Codec codec : {Codec::zstd, Codec::lz4}) {
    std::string frames;
    EXPECT_EQ(append_frame(frames, payload, codec, 512), codec);
    const size_t first = frames.size();
    EXPECT_LT(first, kFrameHeaderBytes + payload.size() / 3) << codec_name(codec);
    EXPECT_EQ(header_word(frames) >> 29, static_cast<uint32_t>(codec));  // the codec in the top bits
    EXPECT_EQ(header_word(frames) & kFrameBodyBytesMax, first - kFrameHeaderBytes);  // the body as sent
    EXPECT_EQ(append_frame(frames, "small", codec, 512), Codec::identity);  // and a plain one after it
    FrameDecoder d(static_cast<uint32_t>(payload.size()));
    for (char c : frames) d.feed(&c, 1);  // byte at a time
    EXPECT_EQ(drain(d), (std::vector<std::string>{payload, "small"}));
    EXPECT_EQ(d.compressed_frames(), 1u);
  }
}

TEST(FrameTest, payloads_under_min_bytes_or_incompressible_are_sent_plain) {
  const std::string payload = json_like(600);
  std::string at, under, off;
  EXPECT_EQ(append_frame(at, payload, Codec::zstd, 600), Codec::zstd);  // exactly the threshold: compressed
  EXPECT_EQ(append_frame(under, payload, Codec::zstd, 601), Codec::identity);
  EXPECT_EQ(under, encode_frame(payload));
  EXPECT_EQ(append_frame(off, payload, Codec::identity, 0), Codec::identity);
  EXPECT_EQ(off, encode_frame(payload));
  std::string random(2000, '\0');
  uint32_t x = 1;
  for (auto& c : random) c = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
  std::string plain;
  EXPECT_EQ(append_frame(plain, random, Codec::lz4, 0), Codec::identity);  // lz4 would grow it
  EXPECT_EQ(plain, encode_frame(random));
}

TEST(FrameTest, checksum_covers_the_compressed_body) {
  std::string frame;
  ASSERT_EQ(append_frame(frame, json_like(4000), Codec::zstd, 0), Codec::zstd);
  frame[kFrameHeaderBytes + 5] ^= 0x01;
  FrameDecoder d(1 << 20);
  d.feed(frame.data(), frame.size());
  auto r = d.next();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::corruption);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos) << r.status().message();
}

TEST(FrameTest, a_compressed_frame_that_inflates_past_the_max_is_refused) {
  std::string bomb;  // 8 MiB of one letter: a few hundred bytes on the wire
  ASSERT_EQ(append_frame(bomb, std::string(8 << 20, 'a'), Codec::zstd, 0), Codec::zstd);
  ASSERT_LT(bomb.size(), 4096u);
  FrameDecoder d(64 << 10);
  d.feed(bomb.data(), bomb.size());
  auto r = d.next();
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::too_large);
  EXPECT_TRUE(d.failed());
  EXPECT_EQ(d.buffered_bytes(), 0u);
}

TEST(FrameTest, an_unknown_codec_or_a_malformed_compressed_body_is_corruption) {
  std::string frame = encode_frame("plain bytes");
  frame[3] = static_cast<char>(frame[3] | (5 << 5));  // codec 5: none such
  std::string word_only = frame;  // the checksum still matches the body
  FrameDecoder unknown(1024);
  unknown.feed(word_only.data(), word_only.size());
  EXPECT_EQ(unknown.next().status().code(), Code::corruption);

  std::string fake = encode_frame("not zstd at all");
  fake[3] = static_cast<char>(fake[3] | (static_cast<int>(Codec::zstd) << 5));
  FrameDecoder malformed(1024);
  malformed.feed(fake.data(), fake.size());
  EXPECT_EQ(malformed.next().status().code(), Code::corruption);
}

}  // namespace
}  // namespace md::net
