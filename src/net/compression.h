// Compression for the wire: one-shot compression and bounded decompression with zstd, lz4 (its
// frame format) and gzip, and the HTTP header negotiation (Content-Encoding, Accept-Encoding).
//
// Decompression never trusts what the compressed data claims about its size: it streams into an
// output that may grow to `limit` bytes and no further, and refuses (Code::too_large) as soon as
// the data would inflate past it, so a "bomb" (a few bytes that claim or make gigabytes) costs
// at most `limit` bytes of memory. Pure functions, no I/O: the fuzz targets call them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace md::net {

// The numbers are part of the peer wire format (frame.h) and of the Hello's `decodes` bit set
// (bit 1 << codec): never renumber.
enum class Codec : uint8_t { identity = 0, zstd = 1, lz4 = 2, gzip = 3 };

// "identity", "zstd", "lz4", "gzip".
std::string_view codec_name(Codec codec);

// Bit set of codecs: bit (1 << codec).
using CodecSet = uint32_t;
inline constexpr CodecSet codec_bit(Codec codec) { return CodecSet{1} << static_cast<unsigned>(codec); }

// The compressed form of `data` (identity: a copy). Fast levels: zstd 1, lz4 default, gzip 1.
std::string compress(Codec codec, std::string_view data);

// The inflated form of `data`, refused without allocating past `limit` bytes: Code::too_large when
// it would inflate past `limit`, Code::corruption when it is not valid `codec` data (truncated,
// trailing garbage, bad checksum).
Result<std::string> decompress(Codec codec, std::string_view data, size_t limit);

// HTTP: the codec a Content-Encoding header names ("" and "identity": identity; "gzip", "x-gzip",
// "zstd"; case-insensitive), or nullopt for any other value (a list of codings included).
std::optional<Codec> parse_content_encoding(std::string_view header);

// HTTP: the codec to answer with for an Accept-Encoding header: zstd or gzip, whichever has the
// higher q-value (zstd on a tie; `*` covers what is not named), or identity when neither is
// acceptable (q=0, absent, no header) or identity is named with a higher q-value.
Codec choose_response_codec(std::string_view accept_encoding);

}  // namespace md::net
