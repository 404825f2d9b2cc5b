// The faults `minidynamo check` injects while its clients run (the nemesis), and the node
// processes it may start itself so that it can kill and pause them.
//
// Faults: `kill` (SIGKILL a node check started; restarted with the same data dir at the heal),
// `pause` (SIGSTOP one; SIGCONT at the heal) and `hook` (a command that injects a fault outside
// check, e.g. a network partition between namespaces: `HOOK start` injects one and prints what it
// did, `HOOK stop` heals everything it did; tests/netns/ has one). Every fault is healed before
// the next starts, and all at the end, so that the run can measure convergence after the faults.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <vector>

namespace md::cli {

// Node processes check started (--start-cluster): each runs `minidynamo node` for one address of
// --nodes, with its data dir and log under one directory. The destructor stops them all.
class LocalCluster {
 public:
  LocalCluster(std::vector<std::string> nodes, std::string root, std::vector<std::string> node_args);
  ~LocalCluster();
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  size_t size() const { return nodes_.size(); }
  const std::string& address(size_t i) const { return nodes_[i]; }
  void start(size_t i);  // also a restart after kill()
  void kill(size_t i);   // SIGKILL, and reaps it
  void pause(size_t i);  // SIGSTOP
  void resume(size_t i);  // SIGCONT
  // True once node i's process has ended by itself (e.g. its port was taken), which it reaps.
  bool exited(size_t i);
  std::string log_path(size_t i) const;

 private:
  std::vector<std::string> nodes_;
  std::string root_;
  std::vector<std::string> node_args_;
  std::vector<pid_t> pids_;
};

struct Fault {
  double start_s = 0, end_s = 0;  // since the run began; end_s 0 while it lasts
  std::string what;
};

struct NemesisOptions {
  std::vector<std::string> faults;  // kill, pause, hook
  std::string hook;                 // the command for `hook`
  double interval_s = 5;            // healthy time between faults
  double duration_s = 5;            // how long a fault lasts
};

class Nemesis {
 public:
  // `cluster` may be null when faults holds neither kill nor pause.
  Nemesis(NemesisOptions options, LocalCluster* cluster, uint64_t seed);

  // Injects and heals faults until stop(); returns with everything healed. `now` gives the
  // seconds since the run began.
  void run(const std::function<double()>& now);
  void stop();
  std::vector<Fault> faults() const;

 private:
  bool wait(double seconds);  // false once stopped
  std::string inject();
  void heal();
  std::string hook(const std::string& verb);

  NemesisOptions options_;
  LocalCluster* cluster_;
  std::mt19937_64 rng_;
  std::vector<size_t> killed_, paused_;
  mutable std::mutex mutex_;
  std::condition_variable stopped_cv_;
  bool stopped_ = false;
  std::vector<Fault> faults_;
};

}  // namespace md::cli
