// What compression costs and saves on this machine, to choose the codecs and the defaults
// (bench/RESULTS.md, "Compression"): for each kind of value (cli/value_generator.h), each codec's
// ratio and speed in one thread; then RocksDB with each block compression: bytes on disk per key
// after a flush and the write rate.  Run: build/bin/compression_bench [values_per_kind]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <zdict.h>
#include <zstd.h>

#include "cli/value_generator.h"
#include "net/compression.h"
#include "storage/engine.h"

namespace {

using md::cli::ValueKind;
using md::net::Codec;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::vector<std::string> values_of(ValueKind kind, uint32_t bytes, size_t count) {
  std::mt19937_64 rng(42);
  std::vector<std::string> values;
  for (size_t i = 0; i < count; ++i) values.push_back(md::cli::make_value(kind, bytes, rng));
  return values;
}

void codecs(const char* name, const std::vector<std::string>& values) {
  size_t raw = 0;
  for (const auto& v : values) raw += v.size();
  for (Codec codec : {Codec::lz4, Codec::zstd, Codec::gzip}) {
    std::vector<std::string> packed;
    const auto c0 = Clock::now();
    for (const auto& v : values) packed.push_back(md::net::compress(codec, v));
    const double compress_s = seconds_since(c0);
    size_t small = 0;
    for (const auto& p : packed) small += p.size();
    const auto d0 = Clock::now();
    for (const auto& p : packed) {
      if (!md::net::decompress(codec, p, 1 << 20).is_ok()) std::abort();
    }
    const double decompress_s = seconds_since(d0);
    const double n = static_cast<double>(values.size());
    std::printf("%-14s %-5s raw %7.0f B  compressed %7.0f B  ratio %5.2f  compress %6.2f us (%5.0f MB/s)  "
                "decompress %6.2f us (%5.0f MB/s)\n",
                name, std::string(md::net::codec_name(codec)).c_str(), raw / n, small / n,
                static_cast<double>(raw) / static_cast<double>(small), compress_s * 1e6 / n, raw / compress_s / 1e6,
                decompress_s * 1e6 / n, raw / decompress_s / 1e6);
  }
}

// zstd with a dictionary trained on values like these (what "trained per node on its own values"
// would give): size and time per value, against plain zstd at the same level.
void dictionary(const char* name, const std::vector<std::string>& train, const std::vector<std::string>& values) {
  std::string samples;
  std::vector<size_t> sizes;
  for (const auto& v : train) {
    samples += v;
    sizes.push_back(v.size());
  }
  std::string dict(110 << 10, '\0');
  const size_t dict_size = ZDICT_trainFromBuffer(dict.data(), dict.size(), samples.data(), sizes.data(),
                                                 static_cast<unsigned>(sizes.size()));
  if (ZDICT_isError(dict_size)) std::abort();
  ZSTD_CDict* cdict = ZSTD_createCDict(dict.data(), dict_size, 1);
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  size_t raw = 0, small = 0;
  std::string out(ZSTD_compressBound(1 << 20), '\0');
  const auto t0 = Clock::now();
  for (const auto& v : values) {
    const size_t n = ZSTD_compress_usingCDict(cctx, out.data(), out.size(), v.data(), v.size(), cdict);
    if (ZSTD_isError(n)) std::abort();
    raw += v.size();
    small += n;
  }
  const double s = seconds_since(t0);
  std::printf("%-14s zstd+dictionary (%zu bytes, trained on %zu values)  compressed %7.0f B  ratio %5.2f  compress %6.2f us\n",
              name, dict_size, train.size(), static_cast<double>(small) / static_cast<double>(values.size()),
              static_cast<double>(raw) / static_cast<double>(small), s * 1e6 / static_cast<double>(values.size()));
  ZSTD_freeCCtx(cctx);
  ZSTD_freeCDict(cdict);
}

void storage(const std::vector<std::string>& values) {
  namespace fs = std::filesystem;
  using md::storage::BlockCompression;
  const std::pair<BlockCompression, const char*> kinds[] = {{BlockCompression::none, "none"},
                                                            {BlockCompression::snappy, "snappy"},
                                                            {BlockCompression::lz4, "lz4"},
                                                            {BlockCompression::zstd, "zstd"}};
  for (const auto& [compression, name] : kinds) {
    const fs::path dir = fs::temp_directory_path() / (std::string("md-compression-bench-") + name);
    fs::remove_all(dir);
    md::storage::Options options;
    options.sync = md::storage::SyncPolicy::none;
    options.compression = compression;
    auto engine = md::storage::open_rocksdb_engine(dir.string(), options);
    if (!engine.is_ok()) std::abort();
    std::string stored;
    const auto t0 = Clock::now();
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string& v = values[i];
      auto set = [&v](std::optional<std::string_view>) -> md::Result<std::optional<std::string>> { return std::optional(v); };
      if (!(*engine)->update(static_cast<md::storage::Partition>(i % 64), "key" + std::to_string(i), set, &stored).is_ok()) {
        std::abort();
      }
    }
    if (!(*engine)->flush().is_ok()) std::abort();
    const double s = seconds_since(t0);
    std::printf("rocksdb %-7s %8.0f bytes/key on disk  %8.0f writes/s (flush included)\n", name,
                static_cast<double>((*engine)->stats().table_bytes) / static_cast<double>(values.size()),
                static_cast<double>(values.size()) / s);
    engine->reset();
    fs::remove_all(dir);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 2000;
  const auto json = values_of(ValueKind::json, 0, count);
  codecs("json 1-16KiB", json);
  codecs("random 100", values_of(ValueKind::random, 100, count));
  codecs("random 4096", values_of(ValueKind::random, 4096, count));
  codecs("letters 100", values_of(ValueKind::letters, 100, count));
  codecs("letters 600", values_of(ValueKind::letters, 600, count));
  std::mt19937_64 rng(7);  // other values than the ones measured
  std::vector<std::string> train;
  for (size_t i = 0; i < 1000; ++i) train.push_back(md::cli::make_value(ValueKind::json, 0, rng));
  dictionary("json 1-16KiB", train, json);
  storage(json);
  return 0;
}
