#include "runtime/actor_epoch.h"

#include <charconv>
#include <filesystem>
#include <fstream>

#include "runtime/durable_file.h"

namespace md::runtime {

namespace fs = std::filesystem;

Result<ActorEpoch> ActorEpoch::read(const std::string& data_dir, const std::string& node_id,
                                    bool state_survives_restarts) {
  const fs::path epoch_file = fs::path(data_dir) / "EPOCH";
  const fs::path running = fs::path(data_dir) / "RUNNING";
  core::PreviousRun previous;
  previous.crashed = fs::exists(running);
  if (fs::exists(epoch_file)) {
    std::ifstream in(epoch_file);
    std::string text;
    std::getline(in, text);
    uint32_t epoch = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), epoch);
    if (ec != std::errc() || end != text.data() + text.size()) {
      return Status::corruption(epoch_file.string() + " does not hold an epoch number: '" + text + "'");
    }
    previous.epoch = epoch;
  }
  ActorEpoch e;
  e.data_dir_ = data_dir;
  e.crashed_ = previous.crashed;
  e.epoch_ = core::next_epoch(previous, state_survives_restarts);
  e.renewed_ = previous.epoch && e.epoch_ != *previous.epoch;
  e.actor_ = core::actor_id(node_id, e.epoch_);
  return e;
}

Status ActorEpoch::begin() const {
  const fs::path dir(data_dir_);
  if (auto s = write_file_durably((dir / "EPOCH").string(), std::to_string(epoch_) + "\n"); !s.is_ok()) return s;
  return write_file_durably((dir / "RUNNING").string(), "a RUNNING marker left behind means the node did not stop cleanly\n");
}

void ActorEpoch::end() const {
  std::error_code ec;
  fs::remove(fs::path(data_dir_) / "RUNNING", ec);
}

}  // namespace md::runtime
