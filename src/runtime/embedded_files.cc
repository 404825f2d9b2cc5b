#include "runtime/embedded_files.h"

#include <string>

#include "net/http_api.h"

namespace md::runtime {
namespace {

std::string_view content_type(std::string_view name) {
  constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"}};
  for (auto [extension, type] : kTypes) {
    if (name.ends_with(extension)) return type;
  }
  return "application/octet-stream";
}

}  // namespace

net::HttpResponse embedded_file_response(std::string_view name) {
  for (size_t i = 0; i < kEmbeddedFileCount; ++i) {
    const auto& file = kEmbeddedFiles[i];
    if (file.name != name) continue;
    net::HttpResponse response;
    response.body = std::string(file.bytes);
    response.content_type = std::string(content_type(name));
    // The browser itself refuses anything not from this node (scripts, styles, images), but the
    // dashboard reads every node's /cluster, wherever they are.
    response.headers.emplace_back("Content-Security-Policy",
                                  "default-src 'self'; connect-src 'self' http: https:; img-src 'self' data:; "
                                  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    return response;
  }
  return net::error_response(404, "no such dashboard file: " + std::string(name));
}

}  // namespace md::runtime
