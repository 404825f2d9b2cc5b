#include "core/actor_epoch.h"

namespace md::core {

uint32_t next_epoch(const PreviousRun& previous, bool state_survives_restarts) {
  if (!previous.epoch) return 0;
  const bool may_have_lost_writes = previous.crashed || !state_survives_restarts;
  return *previous.epoch + (may_have_lost_writes ? 1 : 0);
}

std::string actor_id(const std::string& node_id, uint32_t epoch) {
  return epoch == 0 ? node_id : node_id + "~" + std::to_string(epoch);
}

}  // namespace md::core
