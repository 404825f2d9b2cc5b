// Kills a writer with SIGKILL at random points: every write it acknowledged with sync=always must
// be there when the database is opened again, and it must open cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "storage/engine.h"

namespace md::storage {
namespace {

namespace fs = std::filesystem;

std::string value_of(uint32_t i) { return "value-" + std::to_string(i) + std::string(100, 'x'); }

// The child: 4 threads write keys; after update() returned ok, the key's index goes down the pipe.
[[noreturn]] void write_until_killed(const std::string& path, int report_fd) {
  auto engine = open_rocksdb_engine(path, Options{});
  if (!engine.is_ok()) _exit(2);
  std::atomic<uint32_t> next{0};
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&] {
      while (true) {
        uint32_t i = next++;
        std::string stored;
        auto set = [&](std::optional<std::string_view>) -> Result<std::optional<std::string>> {
          return std::optional<std::string>(value_of(i));
        };
        if (!(*engine)->update(i % 256, "key" + std::to_string(i), set, &stored).is_ok()) _exit(3);
        if (write(report_fd, &i, sizeof i) != sizeof i) _exit(4);
      }
    });
  }
  for (auto& w : writers) w.join();
  _exit(0);
}

TEST(StorageCrash, every_acknowledged_write_survives_sigkill_with_sync_always) {
  uint64_t seed = std::random_device{}();
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  for (int round = 0; round < 5; ++round) {
    fs::path dir = fs::temp_directory_path() / ("md-crash-" + std::to_string(::getpid()) + "-" + std::to_string(round));
    fs::remove_all(dir);
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      close(fds[0]);
      write_until_killed(dir.string(), fds[1]);
    }
    close(fds[1]);
    // Kill after a random number of acknowledgements, mid-stream.
    uint32_t kill_after = static_cast<uint32_t>(rng() % 2000) + 50;
    std::vector<uint32_t> acknowledged;
    uint32_t i = 0;
    while (acknowledged.size() < kill_after && read(fds[0], &i, sizeof i) == sizeof i) acknowledged.push_back(i);
    kill(child, SIGKILL);
    // Acknowledgements already in the pipe were acknowledged before the kill: they count too.
    while (read(fds[0], &i, sizeof i) == sizeof i) acknowledged.push_back(i);
    close(fds[0]);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped on its own with " << status;
    ASSERT_EQ(acknowledged.size() >= kill_after, true);

    auto engine = open_rocksdb_engine(dir.string(), Options{});
    ASSERT_TRUE(engine.is_ok()) << engine.status().message();
    for (uint32_t k : acknowledged) {
      std::string v;
      ASSERT_TRUE((*engine)->get(k % 256, "key" + std::to_string(k), &v).is_ok()) << "lost acknowledged write " << k;
      ASSERT_EQ(v, value_of(k));
    }
    engine = Status::io_error("closed");
    fs::remove_all(dir);
  }
}

}  // namespace
}  // namespace md::storage
