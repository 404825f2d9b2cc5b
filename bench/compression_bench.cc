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
                static_cast<double>((*engine)->file_bytes()) / static_cast<double>(values.size()),
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
  storage(json);
  return 0;
}
