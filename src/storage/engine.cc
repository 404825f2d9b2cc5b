#include "storage/engine.h"

namespace md::storage {

Result<SyncPolicy> parse_sync_policy(std::string_view text) {
  if (text == "always") return SyncPolicy::always;
  if (text == "interval") return SyncPolicy::interval;
  if (text == "none") return SyncPolicy::none;
  return Status::invalid_argument("sync policy must be always, interval or none, got '" + std::string(text) + "'");
}

}  // namespace md::storage
