// The dashboard's files (src/runtime/dashboard/), embedded in the binary at build time by
// dashboard/embed.cmake, and the HTTP answers that serve them: GET / (home.html, links to every
// page) and GET /dashboard[/{file}] (index.html, dashboard.js, dashboard.css). Nothing is read
// from disk or fetched from outside, so the dashboard works on a machine with no network.
#pragma once

#include <cstddef>
#include <string_view>

#include "net/http_request.h"

namespace md::runtime {

struct EmbeddedFile {
  std::string_view name;  // e.g. "dashboard.js"
  std::string_view bytes;
};
extern const EmbeddedFile kEmbeddedFiles[];  // generated
extern const size_t kEmbeddedFileCount;

// The embedded file `name` with its content type (by its extension), or a 404.
net::HttpResponse embedded_file_response(std::string_view name);

}  // namespace md::runtime
