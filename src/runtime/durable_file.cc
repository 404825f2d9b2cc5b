#include "runtime/durable_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace

Status write_file_durably(const std::string& path_text, const std::string& content) {
  fs::path path(path_text);
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) return io_error(tmp, "write");
  }
  if (auto s = fsync_path(tmp, O_RDONLY); !s.is_ok()) return s;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Status::io_error("cannot rename " + tmp.string() + ": " + ec.message());
  return fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path(), O_RDONLY | O_DIRECTORY);
}

}  // namespace md::runtime
