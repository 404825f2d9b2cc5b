// A whole cluster of core::Nodes in one process, in virtual time: the harness that protocol tests
// and the simulator drive.
//
// Every event (a client request, a message, a storage completion, a tick) is queued with a virtual
// time and a sequence number and delivered in that order, so a run is a pure function of its
// inputs. Messages take `latency_ms`; storage completes at once against an in-memory disk per node
// that survives crashes. A crashed node drops what is sent to it, and its senders learn that the
// peer is down, as a refused connection tells the real transport.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <variant>
#include <vector>

#include "core/dvv_set.h"
#include "core/node.h"

namespace md::sim {

struct ClusterOptions {
  size_t nodes = 3;
  uint32_t partitions = 64;
  core::NodeOptions node;
  uint64_t latency_ms = 1;
  uint64_t tick_ms = 10;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);

  // Sends a client request to node `at`; the answer is available from response() once delivered.
  uint64_t submit(size_t at, core::ClientRequest request);
  std::optional<core::ClientResponse> response(uint64_t handle) const;

  // Delivers events until none is left before now + ms, ticking every node on the way.
  void run_for(uint64_t ms);
  // Runs until `handle` is answered (or `limit_ms` of virtual time passed); returns the answer.
  std::optional<core::ClientResponse> await(uint64_t handle, uint64_t limit_ms = 10'000);

  void crash(size_t node);
  void restart(size_t node);
  bool is_up(size_t node) const { return up_[node]; }

  // The object stored on `node` for `key`, decoded; nullopt when absent.
  std::optional<core::DvvSet> stored(size_t node, const std::string& key) const;
  core::Node& node(size_t i) { return *nodes_[i]; }
  uint64_t now_ms() const { return now_ms_; }

 private:
  struct Event {
    uint64_t at_ms = 0;
    uint64_t seq = 0;
    size_t node = 0;
    std::variant<core::ClientRequest, std::pair<core::MemberIndex, core::PeerMessage>, core::StorageDone,
                 core::MemberIndex /* peer down */>
        what;
    uint64_t handle = 0;
    bool operator>(const Event& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };

  void push(uint64_t at_ms, size_t node, decltype(Event::what) what, uint64_t handle = 0);
  void deliver(Event& e);
  void drain(size_t node);
  std::unique_ptr<core::Node> make_node(size_t i) const;

  ClusterOptions options_;
  core::Ring ring_;
  std::vector<std::unique_ptr<core::Node>> nodes_;
  std::vector<bool> up_;
  std::vector<std::map<std::pair<uint32_t, std::string>, std::string>> disks_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::map<uint64_t, core::ClientResponse> responses_;
  uint64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t next_handle_ = 1;
};

// Member ids of a simulated cluster: "node_5001", "node_5002", ... (as the seed's ports).
std::string sim_node_id(size_t i);

}  // namespace md::sim
