// An `Authorization` header's value as a client sends it (HTTP, gRPC metadata): parsing either
// refuses it with a status or reads credentials that the header made from them reads back the
// same; a token's id is read from any text without a fault.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "security/credentials.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view header(reinterpret_cast<const char*>(data), size);
  (void)md::security::token_id(header);
  auto credentials = md::security::parse_authorization(header);
  if (!credentials.is_ok()) return 0;
  auto again = md::security::parse_authorization(md::security::authorization_header(*credentials));
  assert(again.is_ok() && *again == *credentials);
  return 0;
}
