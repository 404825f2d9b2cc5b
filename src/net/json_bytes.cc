#include "net/json_bytes.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace md::net {

std::string bytes_to_json(std::string_view bytes) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);  // no encoding check: any bytes are kept as they are
  w.String(bytes.data(), static_cast<rapidjson::SizeType>(bytes.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string json_to_bytes(std::string_view json) {
  // Stored values are compact JSON, so a string starts with its quote; anything else is returned
  // as it is without parsing (objects may nest, and their text is the answer anyway).
  if (json.empty() || json.front() != '"') return std::string(json);
  rapidjson::Document document;
  document.Parse(json.data(), json.size());
  if (document.HasParseError() || !document.IsString()) return std::string(json);
  return std::string(document.GetString(), document.GetStringLength());
}

}  // namespace md::net
