#include "net/list_cursor.h"

namespace md::net {
namespace {

constexpr char kTag = 'k';  // keeps every cursor, even the empty key's, apart from RESP's "0"
constexpr char kHex[] = "0123456789abcdef";

int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

std::string encode_list_cursor(std::string_view last_key) {
  std::string out(1, kTag);
  out.reserve(1 + 2 * last_key.size());
  for (unsigned char c : last_key) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

Result<std::string> decode_list_cursor(std::string_view cursor) {
  auto bad = [&] {
    return Status::invalid_argument("the cursor '" + std::string(cursor.substr(0, 64)) +
                                    "' is not one a listing handed out: pass back the cursor of the previous page");
  };
  if (cursor.empty() || cursor[0] != kTag || cursor.size() % 2 == 0) return bad();
  std::string key;
  key.reserve(cursor.size() / 2);
  for (size_t i = 1; i < cursor.size(); i += 2) {
    int high = nibble(cursor[i]);
    int low = nibble(cursor[i + 1]);
    if (high < 0 || low < 0) return bad();
    key += static_cast<char>(high << 4 | low);
  }
  return key;
}

}  // namespace md::net
