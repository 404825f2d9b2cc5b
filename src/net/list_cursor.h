// The cursor a key listing hands its client (HTTP `cursor`, RESP SCAN, gRPC List): opaque text
// that names the last key the page considered, so the next page starts strictly after it.
// Printable ASCII without characters that need escaping in a URL or in RESP; never "0", which
// RESP's SCAN reserves for "start" and "done".
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace md::net {

std::string encode_list_cursor(std::string_view last_key);
// The key a cursor names; invalid_argument for text no listing handed out.
Result<std::string> decode_list_cursor(std::string_view cursor);

}  // namespace md::net
