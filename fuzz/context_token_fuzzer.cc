// The context token a client passes back: decoding must refuse garbage cleanly, and a token that
// decodes has exactly one spelling, so encoding what it decodes to gives the token back.
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/context_token.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view token(reinterpret_cast<const char*>(data), size);
  auto context = md::core::decode_context_token(token);
  if (context.is_ok()) assert(md::core::encode_context_token(*context) == token);
  return 0;
}
