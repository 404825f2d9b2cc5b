#include "runtime/actor_epoch.h"

#include <charconv>
#include <filesystem>
#include <fstream>

#include "runtime/durable_file.h"

namespace md::runtime {

namespace fs = std::filesystem;

Result<ActorEpoch> ActorEpoch::begin(const std::string& data_dir, const std::string& node_id, bool synced_writes,
                                     bool state_survives_restarts) {
  const fs::path epoch_file = fs::path(data_dir) / "EPOCH";
  const fs::path running = fs::path(data_dir) / "RUNNING";
  ActorEpoch e;
  e.data_dir_ = data_dir;
  e.crashed_ = fs::exists(running);
  bool ran_before = fs::exists(epoch_file);
  if (ran_before) {
    std::ifstream in(epoch_file);
    std::string text;
    std::getline(in, text);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), e.epoch_);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::corruption(epoch_file.string() + " does not hold an epoch number: '" + text + "'");
    }
  }
  e.renewed_ = ran_before && ((e.crashed_ && !synced_writes) || !state_survives_restarts);
  if (e.renewed_) ++e.epoch_;
  if (auto s = write_file_durably(epoch_file.string(), std::to_string(e.epoch_) + "\n"); !s.is_ok()) return s;
  if (auto s = write_file_durably(running.string(), "a RUNNING marker left behind means the node did not stop cleanly\n");
      !s.is_ok()) {
    return s;
  }
  e.actor_ = e.epoch_ == 0 ? node_id : node_id + "~" + std::to_string(e.epoch_);
  return e;
}

void ActorEpoch::end() const {
  std::error_code ec;
  fs::remove(fs::path(data_dir_) / "RUNNING", ec);
}

}  // namespace md::runtime
