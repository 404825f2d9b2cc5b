// Codecs (net/compression.h): round trips, bounded decompression (bombs refused without
// inflating past the limit), malformed data, and the HTTP header negotiation.
#include "net/compression.h"

#include <gtest/gtest.h>
#include <lz4frame.h>
#include <zstd.h>

#include <random>
#include <string>

namespace md::net {
namespace {

const Codec kCodecs[] = {Codec::zstd, Codec::lz4, Codec::gzip};

std::string json_like(size_t bytes) {
  std::string out;
  for (int i = 0; out.size() < bytes; ++i) out += "{\"id\":" + std::to_string(i) + ",\"name\":\"Ada Lovelace\",\"active\":true},";
  out.resize(bytes);
  return out;
}

std::string random_bytes(size_t bytes) {
  std::mt19937_64 rng(7);
  std::string out(bytes, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

// zstd without the content size in its header: only the streaming bound can stop it.
std::string zstd_without_size(const std::string& data) {
  ZSTD_CCtx* c = ZSTD_createCCtx();
  (void)ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress2(c, out.data(), out.size(), data.data(), data.size());
  ZSTD_freeCCtx(c);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  EXPECT_EQ(ZSTD_getFrameContentSize(out.data(), out.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  return out;
}

// lz4 likewise: its frame header's content size is optional.
std::string lz4_without_size(const std::string& data) {
  LZ4F_preferences_t prefs{};  // contentSize 0: not given
  std::string out(LZ4F_compressFrameBound(data.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), data.data(), data.size(), &prefs);
  EXPECT_FALSE(LZ4F_isError(n));
  out.resize(n);
  return out;
}

TEST(CompressionTest, every_codec_round_trips_text_binary_and_empty_data) {
  for (Codec codec : kCodecs) {
    for (const std::string& data : {json_like(10000), random_bytes(5000), std::string()}) {
      const std::string packed = compress(codec, data);
      auto back = decompress(codec, packed, data.size());
      ASSERT_TRUE(back.is_ok()) << codec_name(codec) << ": " << back.status().message();
      EXPECT_EQ(*back, data) << codec_name(codec);
    }
    EXPECT_LT(compress(codec, json_like(10000)).size(), 10000u / 3) << codec_name(codec);
  }
  EXPECT_EQ(compress(Codec::identity, "abc"), "abc");
}

TEST(CompressionTest, output_exactly_at_the_limit_is_accepted_one_byte_over_is_refused) {
  const std::string data = json_like(70000);  // several output chunks
  for (Codec codec : kCodecs) {
    const std::string packed = compress(codec, data);
    EXPECT_TRUE(decompress(codec, packed, data.size()).is_ok()) << codec_name(codec);
    auto over = decompress(codec, packed, data.size() - 1);
    ASSERT_FALSE(over.is_ok()) << codec_name(codec);
    EXPECT_EQ(over.status().code(), Code::too_large) << codec_name(codec);
  }
  auto identity = decompress(Codec::identity, "abcd", 3);
  EXPECT_EQ(identity.status().code(), Code::too_large);
}

TEST(CompressionTest, a_bomb_is_refused_whatever_its_header_claims) {
  const std::string zeros(64 << 20, '\0');  // 64 MiB of zeros: KiBs compressed (lz4: 270 KiB)
  for (Codec codec : kCodecs) {
    const std::string bomb = compress(codec, zeros);
    ASSERT_LT(bomb.size(), 1u << 20) << codec_name(codec);  // itself under the limit
    auto r = decompress(codec, bomb, 1 << 20);
    ASSERT_FALSE(r.is_ok()) << codec_name(codec);
    EXPECT_EQ(r.status().code(), Code::too_large) << codec_name(codec) << ": " << r.status().message();
  }
  // A zstd frame that does not say its size is stopped by the streaming bound, not the header.
  auto unsized = decompress(Codec::zstd, zstd_without_size(zeros), 1 << 20);
  ASSERT_FALSE(unsized.is_ok());
  EXPECT_EQ(unsized.status().code(), Code::too_large);
  EXPECT_NE(unsized.status().message().find("inflates past"), std::string::npos) << unsized.status().message();
  auto unsized_lz4 = decompress(Codec::lz4, lz4_without_size(std::string(8 << 20, 'a')), 1 << 20);
  ASSERT_FALSE(unsized_lz4.is_ok());
  EXPECT_NE(unsized_lz4.status().message().find("inflates past"), std::string::npos) << unsized_lz4.status().message();
  auto fits_lz4 = decompress(Codec::lz4, lz4_without_size(json_like(100000)), 100000);
  ASSERT_TRUE(fits_lz4.is_ok()) << fits_lz4.status().message();
  EXPECT_EQ(*fits_lz4, json_like(100000));
  // ...and still decodes when it fits.
  auto fits = decompress(Codec::zstd, zstd_without_size(json_like(100000)), 100000);
  ASSERT_TRUE(fits.is_ok()) << fits.status().message();
  EXPECT_EQ(*fits, json_like(100000));
}

TEST(CompressionTest, truncated_garbage_and_trailing_bytes_are_corruption) {
  const std::string data = json_like(20000);
  for (Codec codec : kCodecs) {
    const std::string packed = compress(codec, data);
    auto truncated = decompress(codec, packed.substr(0, packed.size() / 2), 1 << 20);
    EXPECT_EQ(truncated.status().code(), Code::corruption) << codec_name(codec);
    auto garbage = decompress(codec, random_bytes(300), 1 << 20);
    EXPECT_EQ(garbage.status().code(), Code::corruption) << codec_name(codec);
    auto trailing = decompress(codec, packed + "xyz", 1 << 20);
    EXPECT_EQ(trailing.status().code(), Code::corruption) << codec_name(codec);
    auto empty = decompress(codec, "", 1 << 20);
    EXPECT_EQ(empty.status().code(), Code::corruption) << codec_name(codec);
  }
}

TEST(CompressionTest, content_encoding_names_one_supported_coding) {
  EXPECT_EQ(parse_content_encoding(""), Codec::identity);
  EXPECT_EQ(parse_content_encoding("identity"), Codec::identity);
  EXPECT_EQ(parse_content_encoding(" GZIP "), Codec::gzip);
  EXPECT_EQ(parse_content_encoding("x-gzip"), Codec::gzip);
  EXPECT_EQ(parse_content_encoding("zstd"), Codec::zstd);
  EXPECT_EQ(parse_content_encoding("br"), std::nullopt);
  EXPECT_EQ(parse_content_encoding("deflate"), std::nullopt);
  EXPECT_EQ(parse_content_encoding("gzip, zstd"), std::nullopt);
  EXPECT_EQ(parse_content_encoding("lz4"), std::nullopt);  // peer frames only
}

TEST(CompressionTest, accept_encoding_q_values_choose_the_response_codec) {
  EXPECT_EQ(choose_response_codec(""), Codec::identity);
  EXPECT_EQ(choose_response_codec("gzip"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("zstd"), Codec::zstd);
  EXPECT_EQ(choose_response_codec("gzip, deflate, br, zstd"), Codec::zstd);  // a tie: zstd
  EXPECT_EQ(choose_response_codec("gzip;q=1.0, zstd;q=0.5"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("zstd;q=0, gzip;q=0.1"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("zstd;q=0, gzip;q=0"), Codec::identity);
  EXPECT_EQ(choose_response_codec("*"), Codec::zstd);
  EXPECT_EQ(choose_response_codec("*;q=0"), Codec::identity);
  EXPECT_EQ(choose_response_codec("*;q=0, gzip"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("br, deflate"), Codec::identity);
  EXPECT_EQ(choose_response_codec("identity"), Codec::identity);
  EXPECT_EQ(choose_response_codec("gzip;q=0.5, identity;q=1"), Codec::identity);
  EXPECT_EQ(choose_response_codec("gzip;q=0.5, identity;q=0"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("GZip ; Q=0.8"), Codec::gzip);
  EXPECT_EQ(choose_response_codec("gzip;q=nonsense"), Codec::identity);
}

}  // namespace
}  // namespace md::net
