// The causal context as clients carry it: an opaque, URL-safe token.
//
// A read hands the client the object's context; the client passes it back with its next write,
// which then replaces exactly the siblings it saw. The token is base64url (no padding) over:
// u8 version | varint count | (id bytes, varint counter)* | u32 XXH32 of the preceding bytes.
// decode rejects anything else with Code::invalid_argument and a message that says what is wrong.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "core/version_vector.h"

namespace md::core {

std::string encode_context_token(const VersionVector& context);
Result<VersionVector> decode_context_token(std::string_view token);

}  // namespace md::core
