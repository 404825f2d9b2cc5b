#include "cli/check_nemesis.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace md::cli {

LocalCluster::LocalCluster(std::vector<std::string> nodes, std::string root, std::vector<std::string> node_args)
    : nodes_(std::move(nodes)), root_(std::move(root)), node_args_(std::move(node_args)), pids_(nodes_.size(), 0) {
  std::filesystem::create_directories(root_);
  for (size_t i = 0; i < nodes_.size(); ++i) start(i);
}

LocalCluster::~LocalCluster() {
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] <= 0) continue;
    ::kill(pids_[i], SIGCONT);  // a paused node must run to take the SIGTERM
    ::kill(pids_[i], SIGTERM);
  }
  // SIGTERM: each node syncs and exits; one that has not within 10 s is killed.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] <= 0) continue;
    while (::waitpid(pids_[i], nullptr, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pids_[i], SIGKILL);
        ::waitpid(pids_[i], nullptr, 0);
        break;
      }
      ::usleep(20000);
    }
  }
}

std::string LocalCluster::log_path(size_t i) const {
  return root_ + "/node_" + nodes_[i].substr(nodes_[i].rfind(':') + 1) + ".log";
}

void LocalCluster::start(size_t i) {
  const auto& address = nodes_[i];
  const auto colon = address.rfind(':');
  std::string members;
  for (const auto& n : nodes_) members += (members.empty() ? "" : ",") + n;
  std::vector<std::string> args = {"minidynamo", "node", "--host", address.substr(0, colon),
                                   "--port", address.substr(colon + 1), "--nodes", members,
                                   "--data-dir", root_ + "/node_" + address.substr(colon + 1)};
  args.insert(args.end(), node_args_.begin(), node_args_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = log_path(i);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = 0;
  // The node is this very binary: check tests the build it belongs to.
  int error = posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) throw std::runtime_error("cannot start a node for " + address + ": " + std::strerror(error));
  pids_[i] = pid;
}

void LocalCluster::kill(size_t i) {
  ::kill(pids_[i], SIGKILL);
  ::waitpid(pids_[i], nullptr, 0);
  pids_[i] = 0;
}

bool LocalCluster::exited(size_t i) {
  if (pids_[i] <= 0 || ::waitpid(pids_[i], nullptr, WNOHANG) != pids_[i]) return false;
  pids_[i] = 0;
  return true;
}

void LocalCluster::pause(size_t i) { ::kill(pids_[i], SIGSTOP); }

void LocalCluster::resume(size_t i) { ::kill(pids_[i], SIGCONT); }

Nemesis::Nemesis(NemesisOptions options, LocalCluster* cluster, uint64_t seed)
    : options_(std::move(options)), cluster_(cluster), rng_(seed) {}

void Nemesis::run(const std::function<double()>& now) {
  while (wait(options_.interval_s)) {
    Fault fault{now(), 0, inject()};
    wait(options_.duration_s);
    heal();
    fault.end_s = now();
    std::lock_guard lock(mutex_);
    faults_.push_back(std::move(fault));
  }
}

void Nemesis::stop() {
  std::lock_guard lock(mutex_);
  stopped_ = true;
  stopped_cv_.notify_all();
}

std::vector<Fault> Nemesis::faults() const {
  std::lock_guard lock(mutex_);
  return faults_;
}

bool Nemesis::wait(double seconds) {
  std::unique_lock lock(mutex_);
  stopped_cv_.wait_for(lock, std::chrono::duration<double>(seconds), [&] { return stopped_; });
  return !stopped_;
}

std::string Nemesis::inject() {
  const auto& kind = options_.faults[rng_() % options_.faults.size()];
  if (kind == "hook") return hook("start");
  const size_t node = rng_() % cluster_->size();
  if (kind == "kill") {
    cluster_->kill(node);
    killed_.push_back(node);
    return "kill -9 " + cluster_->address(node) + " (restarted at the heal)";
  }
  cluster_->pause(node);
  paused_.push_back(node);
  return "SIGSTOP " + cluster_->address(node) + " (SIGCONT at the heal)";
}

void Nemesis::heal() {
  for (size_t node : killed_) cluster_->start(node);
  for (size_t node : paused_) cluster_->resume(node);
  killed_.clear();
  paused_.clear();
  if (std::find(options_.faults.begin(), options_.faults.end(), "hook") != options_.faults.end()) hook("stop");
}

// Runs `HOOK verb` through the shell; what it prints describes the fault.
std::string Nemesis::hook(const std::string& verb) {
  const std::string command = options_.hook + " " + verb;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "hook `" + command + "` could not run: " + std::strerror(errno);
  std::string output;
  char buffer[512];
  while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) output.append(buffer, n);
  const int status = ::pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  if (status != 0) {
    std::fprintf(stderr, "check: nemesis hook `%s` failed (status %d): %s\n", command.c_str(), status, output.c_str());
    return "hook " + verb + " failed: " + output;
  }
  return output;
}

}  // namespace md::cli
