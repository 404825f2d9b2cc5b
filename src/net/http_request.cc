#include "net/http_request.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace md::net {

std::string json_error_body(std::string_view message) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("status");
  w.String("error");
  w.Key("error");
  w.String(message.data(), static_cast<rapidjson::SizeType>(message.size()));
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      if (i + 2 >= text.size() || hex(text[i + 1]) < 0 || hex(text[i + 2]) < 0) return std::nullopt;
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && text[i] == '+' ? ' ' : text[i]);
    }
  }
  return out;
}

Status decode_target(std::string_view target, HttpRequest& request) {
  auto question = target.find('?');
  auto path = percent_decode(target.substr(0, question), false);
  if (!path) return Status::invalid_argument("the path has a malformed %-escape");
  request.path = std::move(*path);
  request.query.clear();
  if (question == std::string_view::npos) return Status::ok();
  std::string_view rest = target.substr(question + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
    if (!name || !value) return Status::invalid_argument("the query has a malformed %-escape");
    if (!name->empty()) request.query.emplace_back(std::move(*name), std::move(*value));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return Status::ok();
}

}  // namespace md::net
