#include "net/compression.h"

#include <lz4frame.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <memory>

#include <fmt/format.h>

namespace md::net {
namespace {

constexpr int kZstdLevel = 1;  // bench/RESULTS.md, "Compression": level 1 already gets most of the ratio
constexpr int kGzipLevel = 1;
constexpr size_t kFirstChunkBytes = 4096;

// What one step of a streaming decompressor did with the room it was given.
struct Step {
  size_t produced = 0;
  bool finished = false;  // the stream ended, every input byte consumed
  bool stalled = false;   // every input byte consumed, room left, stream not ended: truncated
  const char* error = nullptr;
};

// Drives `step(dst, room)` until the stream ends, growing the output up to `limit` and no further:
// once the output holds `limit` bytes, a one-byte probe tells a stream that ends there from one
// that would go on (too_large).
template <class StepFn>
Result<std::string> inflate_bounded(Codec codec, size_t limit, size_t first_chunk, StepFn step) {
  auto corrupt = [codec](const char* why) {
    return Status::corruption(fmt::format("malformed {} data: {}", codec_name(codec), why));
  };
  std::string out(std::min(limit, std::max<size_t>(first_chunk, 1)), '\0');
  size_t produced = 0;
  for (;;) {
    Step r;
    if (produced == out.size() && out.size() >= limit) {
      char probe;
      r = step(&probe, 1);
      if (r.error == nullptr && r.produced > 0) {
        return Status::too_large(fmt::format("{} data inflates past the limit of {} bytes", codec_name(codec), limit));
      }
    } else {
      if (produced == out.size()) out.resize(std::min(limit, out.size() * 2));
      r = step(out.data() + produced, out.size() - produced);
      produced += r.produced;
    }
    if (r.error != nullptr) return corrupt(r.error);
    if (r.finished) break;
    if (r.stalled) return corrupt("truncated");
  }
  out.resize(produced);
  return out;
}

struct ZstdCCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct ZstdDCtxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};
struct Lz4DCtxFree {
  void operator()(LZ4F_dctx* d) const { (void)LZ4F_freeDecompressionContext(d); }
};

// The compression context is reused per thread: creating one costs more than compressing a small
// frame, and each call starts afresh. A decompression context is not: one reused after bad data
// keeps buffers sized by earlier frames, which changed how the next bad frame was refused
// (too_large or corruption: found by the decompress fuzz target), so each call has its own.
ZSTD_CCtx* zstd_cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, ZstdCCtxFree> ctx(ZSTD_createCCtx());
  return ctx.get();
}

std::string compress_zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  const size_t n = ZSTD_compressCCtx(zstd_cctx(), out.data(), out.size(), in.data(), in.size(), kZstdLevel);
  if (ZSTD_isError(n)) throw std::runtime_error(std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string compress_lz4(std::string_view in) {
  LZ4F_preferences_t prefs{};
  prefs.frameInfo.contentSize = in.size();
  std::string out(LZ4F_compressFrameBound(in.size(), &prefs), '\0');
  const size_t n = LZ4F_compressFrame(out.data(), out.size(), in.data(), in.size(), &prefs);
  if (LZ4F_isError(n)) throw std::runtime_error(std::string("lz4 compression failed: ") + LZ4F_getErrorName(n));
  out.resize(n);
  return out;
}

std::string compress_gzip(std::string_view in) {
  z_stream z{};
  if (deflateInit2(&z, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip compression failed: deflateInit2");
  }
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw std::runtime_error("gzip compression failed: deflate");
  return out;
}

Result<std::string> decompress_zstd(std::string_view in, size_t limit) {
  // The size the frame claims: refuses a claim over the limit at once, and sizes the first chunk
  // (never past the limit). It is only a hint: the output is still bounded as it is produced.
  const unsigned long long claimed = ZSTD_getFrameContentSize(in.data(), in.size());
  if (claimed == ZSTD_CONTENTSIZE_ERROR) return Status::corruption("malformed zstd data: not a zstd frame");
  if (claimed != ZSTD_CONTENTSIZE_UNKNOWN && claimed > limit) {
    return Status::too_large(fmt::format("zstd data claims {} bytes, over the limit of {}", claimed, limit));
  }
  std::unique_ptr<ZSTD_DCtx, ZstdDCtxFree> context(ZSTD_createDCtx());
  if (!context) return Status::io_error("zstd: cannot create a decompression context");
  ZSTD_DCtx* d = context.get();
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  const size_t first = claimed != ZSTD_CONTENTSIZE_UNKNOWN ? static_cast<size_t>(claimed) : kFirstChunkBytes;
  return inflate_bounded(Codec::zstd, limit, first, [&](char* dst, size_t room) {
    ZSTD_outBuffer output{dst, room, 0};
    const size_t ret = ZSTD_decompressStream(d, &output, &input);
    Step s;
    if (ZSTD_isError(ret)) {
      s.error = ZSTD_getErrorName(ret);
      return s;
    }
    s.produced = output.pos;
    s.finished = ret == 0 && input.pos == input.size;
    s.stalled = !s.finished && input.pos == input.size && output.pos < room;
    return s;
  });
}

Result<std::string> decompress_lz4(std::string_view in, size_t limit) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION))) return Status::io_error("lz4: cannot create a decompression context");
  std::unique_ptr<LZ4F_dctx, Lz4DCtxFree> d(raw);
  // The frame header's content size, when it has one, is handled like zstd's: a claim over the
  // limit is refused at once, one under it sizes the first chunk, and neither is trusted further.
  LZ4F_frameInfo_t info{};
  size_t consumed = in.size();
  const size_t header = LZ4F_getFrameInfo(d.get(), &info, in.data(), &consumed);
  if (LZ4F_isError(header)) return Status::corruption(std::string("malformed lz4 data: ") + LZ4F_getErrorName(header));
  if (info.contentSize > limit) {
    return Status::too_large(fmt::format("lz4 data claims {} bytes, over the limit of {}", info.contentSize, limit));
  }
  const size_t first = info.contentSize != 0 ? static_cast<size_t>(info.contentSize) : kFirstChunkBytes;
  return inflate_bounded(Codec::lz4, limit, first, [&](char* dst, size_t room) {
    size_t dst_size = room;
    size_t src_size = in.size() - consumed;
    const size_t ret = LZ4F_decompress(d.get(), dst, &dst_size, in.data() + consumed, &src_size, nullptr);
    Step s;
    if (LZ4F_isError(ret)) {
      s.error = LZ4F_getErrorName(ret);
      return s;
    }
    consumed += src_size;
    s.produced = dst_size;
    s.finished = ret == 0 && consumed == in.size();
    s.stalled = !s.finished && consumed == in.size() && dst_size < room && src_size == 0;
    return s;
  });
}

Result<std::string> decompress_gzip(std::string_view in, size_t limit) {
  z_stream z{};
  if (inflateInit2(&z, 15 + 16) != Z_OK) return Status::io_error("gzip: inflateInit2 failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> end(&z, inflateEnd);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  bool ended = false;
  return inflate_bounded(Codec::gzip, limit, kFirstChunkBytes, [&](char* dst, size_t room) {
    Step s;
    if (ended) {  // bytes after the end of the gzip member
      s.error = "trailing bytes after the end";
      return s;
    }
    z.next_out = reinterpret_cast<Bytef*>(dst);
    z.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&z, Z_NO_FLUSH);
    s.produced = room - z.avail_out;
    if (rc == Z_STREAM_END) {
      ended = true;
      s.finished = z.avail_in == 0;
      if (!s.finished) s.error = "trailing bytes after the end";
    } else if (rc == Z_OK || rc == Z_BUF_ERROR) {
      s.stalled = z.avail_in == 0 && z.avail_out > 0;
    } else {
      s.error = z.msg != nullptr ? z.msg : "inflate failed";
    }
    return s;
  });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

}  // namespace

std::string_view codec_name(Codec codec) {
  switch (codec) {
    case Codec::identity: return "identity";
    case Codec::zstd: return "zstd";
    case Codec::lz4: return "lz4";
    case Codec::gzip: return "gzip";
  }
  return "unknown";
}

std::string compress(Codec codec, std::string_view data) {
  switch (codec) {
    case Codec::zstd: return compress_zstd(data);
    case Codec::lz4: return compress_lz4(data);
    case Codec::gzip: return compress_gzip(data);
    case Codec::identity: break;
  }
  return std::string(data);
}

Result<std::string> decompress(Codec codec, std::string_view data, size_t limit) {
  switch (codec) {
    case Codec::zstd: return decompress_zstd(data, limit);
    case Codec::lz4: return decompress_lz4(data, limit);
    case Codec::gzip: return decompress_gzip(data, limit);
    case Codec::identity: break;
  }
  if (data.size() > limit) return Status::too_large(fmt::format("{} bytes, over the limit of {}", data.size(), limit));
  return std::string(data);
}

std::optional<Codec> parse_content_encoding(std::string_view header) {
  header = trim(header);
  if (header.empty() || iequals(header, "identity")) return Codec::identity;
  if (iequals(header, "gzip") || iequals(header, "x-gzip")) return Codec::gzip;
  if (iequals(header, "zstd")) return Codec::zstd;
  return std::nullopt;
}

Codec choose_response_codec(std::string_view accept_encoding) {
  // q-values: -1 when the coding is not named.
  double zstd = -1, gzip = -1, identity = -1, any = -1;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    std::string_view item = accept_encoding.substr(0, comma);
    accept_encoding = comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = item.find(';');
    const std::string_view token = trim(item.substr(0, semi));
    double q = 1;
    if (semi != std::string_view::npos) {
      std::string_view param = trim(item.substr(semi + 1));
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        param = trim(param.substr(2));
        if (std::from_chars(param.data(), param.data() + param.size(), q).ec != std::errc()) q = 0;
        q = std::clamp(q, 0.0, 1.0);
      }
    }
    if (iequals(token, "zstd")) zstd = q;
    else if (iequals(token, "gzip") || iequals(token, "x-gzip")) gzip = q;
    else if (iequals(token, "identity")) identity = q;
    else if (token == "*") any = q;
  }
  if (zstd < 0) zstd = std::max(any, 0.0);
  if (gzip < 0) gzip = std::max(any, 0.0);
  const double best = std::max(zstd, gzip);
  if (best <= 0 || identity > best) return Codec::identity;
  return zstd >= gzip ? Codec::zstd : Codec::gzip;
}

}  // namespace md::net
