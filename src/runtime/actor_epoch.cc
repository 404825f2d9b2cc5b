#include "runtime/actor_epoch.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace md::runtime {
namespace {

namespace fs = std::filesystem;

Status io_error(const fs::path& path, const char* what) {
  return Status::io_error(std::string("cannot ") + what + " " + path.string() + ": " + std::strerror(errno));
}

Status fsync_path(const fs::path& path, int flags) {
  int fd = ::open(path.c_str(), flags);
  if (fd < 0) return io_error(path, "open");
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::ok() : io_error(path, "fsync");
}

// Writes `text` to `path` durably: a temporary file, fsynced, renamed over, and the dir fsynced.
Status write_durably(const fs::path& path, const std::string& text) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return io_error(tmp, "write");
  }
  if (auto s = fsync_path(tmp, O_RDONLY); !s.is_ok()) return s;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::io_error("cannot rename " + tmp.string() + ": " + ec.message());
  return fsync_path(path.parent_path(), O_RDONLY | O_DIRECTORY);
}

}  // namespace

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
  if (auto s = write_durably(epoch_file, std::to_string(e.epoch_) + "\n"); !s.is_ok()) return s;
  if (auto s = write_durably(running, "a RUNNING marker left behind means the node did not stop cleanly\n");
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
