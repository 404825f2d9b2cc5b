// How the binary front ends (gRPC, RESP) map their values, which are bytes, onto the store's values,
// which are compact JSON text (what HTTP clients write): bytes are stored as a JSON string of
// those bytes, and a stored JSON string reads back as its bytes, any other JSON value (an object, a
// number, written over HTTP) as its JSON text. So a value written over any protocol reads sensibly
// over the others.
//
// The bytes need not be UTF-8: they are escaped as JSON requires ('"', '\\', control characters)
// and otherwise kept as they are, so they come back exactly over gRPC and RESP; over HTTP such a
// value shows as a JSON string that is not valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace md::net {

// The compact JSON text of a string holding `bytes`.
std::string bytes_to_json(std::string_view bytes);

// The bytes a stored value reads back as: a JSON string's contents, else the JSON text itself.
std::string json_to_bytes(std::string_view json);

}  // namespace md::net
