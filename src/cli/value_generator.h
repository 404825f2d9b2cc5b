// Values for the load generator (`minidynamo bench --values`) and the compression benchmark
// (bench/compression_bench.cc), as the JSON text a client sends:
//  - letters: a string of `value_bytes` random letters and digits (the benchmark's historical value);
//  - json: a JSON document of 1 to 16 KiB (size uniform), an array of records such as an
//    application keeps (ids, names, e-mail addresses, timestamps, tags, nested addresses): what
//    compression meets in practice;
//  - random: a string of `value_bytes` random printable characters, the worst case a JSON value
//    can be for a compressor (about 6.5 bits of entropy per byte; no repeats for lz4 to find).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace md::cli {

enum class ValueKind { letters, json, random };

// "letters", "json", "random"; false when `name` is none of them.
bool parse_value_kind(std::string_view name, ValueKind* kind);

inline constexpr uint32_t kJsonValueBytesMin = 1024;
inline constexpr uint32_t kJsonValueBytesMax = 16 * 1024;

// One value's JSON text (letters, random: exactly value_bytes characters between the quotes; json:
// a document of kJsonValueBytesMin..kJsonValueBytesMax bytes).
std::string make_value(ValueKind kind, uint32_t value_bytes, std::mt19937_64& rng);

}  // namespace md::cli
