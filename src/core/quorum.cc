#include "core/quorum.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace md::core {

Result<Quorum> resolve_quorum(std::optional<int64_t> n, std::optional<int64_t> r, std::optional<int64_t> w,
                              const Quorum& defaults, uint32_t nodes) {
  Quorum q;
  int64_t nv = n.value_or(std::min(defaults.n, nodes));
  if (nv < 1 || nv > nodes) {
    return Status::invalid_argument("N must be between 1 and the number of nodes (" + std::to_string(nodes) +
                                    "), got " + std::to_string(nv));
  }
  q.n = static_cast<uint32_t>(nv);
  auto check = [&](const char* name, std::optional<int64_t> given, uint32_t fallback, uint32_t* out) -> Status {
    int64_t v = given.value_or(std::min(fallback, q.n));
    if (v < 1 || v > q.n) {
      return Status::invalid_argument(std::string(name) + " must be between 1 and N (" + std::to_string(q.n) +
                                      "), got " + std::to_string(v));
    }
    *out = static_cast<uint32_t>(v);
    return Status::ok();
  };
  if (auto s = check("R", r, defaults.r, &q.r); !s.is_ok()) return s;
  if (auto s = check("W", w, defaults.w, &q.w); !s.is_ok()) return s;
  return q;
}

}  // namespace md::core
