// A whole cluster of core::Nodes in one process, in virtual time: the harness that protocol tests
// and the simulator drive.
//
// Each simulated node is what the real node is, minus its sockets and files: a core::Node whose
// effects the same node::EffectRunner carries out, against a SimDisk (the storage::Engine) with a
// group committer that completes its fsynced batches at a later virtual moment, as the durable
// writer's thread does.
//
// Every event (client request, message, commit completion, peer-down notice, tick, disk flush) is
// queued with a virtual time and a sequence number and delivered in that order, so a run is a pure
// function of its options and seed. The network can lose, duplicate and delay messages (a long
// tail reorders them) and be partitioned; disks can fail reads, writes and fsyncs and fill up;
// nodes can crash (volatile state lost, the disk keeps what was synced) and restart, and be slow.
// Each delivered event extends a trace, whose hash proves that a seed replays identically.
#pragma once

#include <xxhash.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <string>
#include <variant>
#include <vector>

#include "core/dvv_set.h"
#include "core/node.h"
#include "node/commit_queue.h"
#include "node/effect_runner.h"
#include "sim/rng.h"
#include "sim/sim_disk.h"

namespace md::sim {

struct NetworkFaults {
  double loss = 0;               // probability that a message is dropped
  double duplicate = 0;          // probability that a message is delivered twice
  uint64_t latency_ms = 1;       // typical one-way delay
  uint64_t latency_max_ms = 1;   // the long tail is cut here; equal to latency_ms: no tail
};

struct ClusterOptions {
  size_t nodes = 3;
  size_t joiners = 0;                // the last `joiners` nodes start outside the ring (join() adds them)
  uint32_t partitions = 64;
  core::NodeOptions node;
  size_t zones = 0;                  // nodes in this many zones of consecutive nodes, "z0"...; 0: none
  uint64_t tick_ms = 10;
  NetworkFaults network;
  DiskSync sync = DiskSync::always;
  uint64_t flush_interval_ms = 200;  // how often the OS writes back what is not synced
  uint64_t fsync_ms_max = 5;         // a synced batch completes 1 ms to this long after it starts (more on a slow node)
  uint64_t seed = 1;
  bool trace = false;                // keep the trace text (its hash is always kept)
  bool buggy_merge = false;          // mutation test only: replica merges drop a sibling
  bool buggy_actor_epochs = false;   // mutation test only: a node keeps its actor id after losing writes
  bool buggy_handoff = false;        // mutation test only: hints are acknowledged but never kept
  bool buggy_reaping = false;        // mutation test only: a node removes a tombstone as soon as it stores it
  bool buggy_dot_floor = false;      // mutation test only: coordinators ignore the dot floor
  bool buggy_ids = false;            // mutation test only: every node makes its dots under one shared id
  bool buggy_early_ack = false;      // mutation test only: synced batches complete before their fsync
};

// A write as its coordinator stored it: observed on the virtual disk, for the checker.
struct StoredWrite {
  size_t node = 0;  // the coordinator
  std::string key;
  core::Dot dot;
  core::VersionVector context;  // what the write had seen (its own dot excluded)
  bool tombstone = false;
  std::string value;
  uint64_t at_ms = 0;  // when the coordinator stored it
  // Its fsync failed: it was answered with an error, and its record may come back after a crash
  // of its coordinator, or not (sim_disk.h). It may overwrite others, but need not survive, and
  // its dot may be made again if it never came back. Also true of a write sent out before the
  // coordinator stored it (`sent`).
  bool unsynced = false;
  // Seen as it went out to the replicas, before the coordinator's own copy was stored
  // (core/write_coordinator.h): it need not survive, but its dot is never made again. When the
  // coordinator then stores it, it is seen again, with the same dot and contents.
  bool sent = false;
};

// A tombstone a node removed (core/tombstone_reaper.h): what it deleted is gone from that node
// for good, and the checker takes its context as part of the key's history.
struct ReapedTombstone {
  std::string key;
  core::VersionVector context;
  uint64_t at_ms = 0;
};

// A crash, or a failed storage operation (which may lose a write's hints as a crash does).
struct Crash {
  size_t node = 0;
  uint64_t at_ms = 0;
};

// An acknowledged write held by fewer distinct nodes than its W when it was acknowledged.
struct ThinAck {
  std::string key;
  std::string value;
  uint32_t w = 0;
  size_t holders = 0;
};

class Cluster {
 public:
  explicit Cluster(ClusterOptions options);
  ~Cluster();

  // Sends a client request to node `at`; the answer is available from response() once delivered.
  uint64_t submit(size_t at, core::ClientRequest request);
  std::optional<core::ClientResponse> response(uint64_t handle) const;

  // Delivers events until none is left before now + ms, ticking every node on the way.
  void run_for(uint64_t ms);
  // Runs until `handle` is answered (or `limit_ms` of virtual time passed); returns the answer.
  std::optional<core::ClientResponse> await(uint64_t handle, uint64_t limit_ms = 10'000);

  void crash(size_t node);
  void restart(size_t node);  // a crashed member
  bool is_up(size_t node) const { return up_[node]; }
  // `node` (one of the joiners; the one of lowest index not yet a member) asks `via` to join, and
  // keeps asking every kJoinPollMs, as the runtime's --join does, until the ring has it: then it
  // starts with the state `via` answered.
  void join(size_t node, size_t via);
  bool is_member(size_t node) const { return member_[node]; }
  static constexpr uint64_t kJoinPollMs = 200;
  // An admin asks, through `node`, that member `member` depart (core::Node::request_departure), as
  // the admin API does.
  Status request_departure(size_t node, size_t member, const core::Departure& departure);
  // The newest ring's owners are changing (transfers under way).
  bool changing() const { return newest_ && !newest_->next_owners.empty(); }
  // An admin changes user `name` through `node` (core::Node::change_user), as the admin API does.
  Status change_user(size_t node, const std::string& name, core::User user);
  // group[i] is node i's side; messages between sides are silently lost until heal().
  void partition(std::vector<int> group);
  void heal();
  void set_network(const NetworkFaults& faults) { options_.network = faults; }
  void set_slow(size_t node, uint64_t extra_ms) { slow_ms_[node] = extra_ms; }
  void set_disk_faults(size_t node, const DiskFaults& faults);

  // Tests only: `node`, crashed, loses `key` from its disk, as if it had never stored it.
  void erase_from_disk(size_t node, const std::string& key);
  // Tests only: sees every message a node sends (before the network may lose it).
  using SendObserver = std::function<void(size_t from, core::MemberIndex to, const core::PeerMessage&)>;
  void observe_sends(SendObserver observer) { send_observer_ = std::move(observer); }

  // The object on `node`'s disk for `key` (what survives a crash and what is not yet synced), decoded.
  std::optional<core::DvvSet> stored(size_t node, const std::string& key) const;
  const std::vector<StoredWrite>& stored_writes() const { return stored_writes_; }
  const std::vector<ReapedTombstone>& reaped() const { return reaped_; }
  const std::vector<Crash>& crashes() const { return crashes_; }
  // Storage operations that failed, by node and time.
  const std::vector<Crash>& disk_failures() const { return disk_failures_; }
  // Acknowledged writes that fewer than W distinct nodes held (as data or as a hint) at their
  // acknowledgement.
  const std::vector<ThinAck>& thin_acks() const { return thin_acks_; }
  core::Node& node(size_t i) { return *machines_[i].node; }
  // The newest ring any node adopted (every node's, once gossip converged).
  const core::Ring& ring() const { return ring_; }
  // Node i's address (host:port) and node id, drawn from the seed as real ones are made: random
  // hosts, often on one port, and random ids (runtime/config.h), so that neither sorts like i.
  const std::string& address(size_t i) const { return addresses_[i]; }
  const std::string& node_id(size_t i) const { return ids_[i]; }
  // Hints on `node`'s disk (its kHintPartition): a hint the node cannot name keeps its key there.
  size_t hints_on_disk(size_t node) const;
  // Replica merges that met a dot held with other contents (core/replica.h), counted by the
  // nodes' current lives.
  uint64_t dot_collisions() const;
  size_t size() const { return machines_.size(); }
  uint64_t now_ms() const { return now_ms_; }
  Rng& rng() { return rng_; }
  uint64_t trace_hash() const { return XXH3_64bits_digest(trace_state_.get()); }
  const std::string& trace() const { return trace_; }
  void note(const std::string& line);  // adds a line to the trace (faults, workload steps)

 private:
  struct PeerDown {
    core::MemberIndex peer;
    uint64_t peer_incarnation;  // the life of the peer whose connection failed
  };
  struct Flush {};       // the OS writes back
  struct CommitDone {};  // the batch the node's committer started is written and synced
  using What = std::variant<core::ClientRequest, std::pair<core::MemberIndex, core::PeerMessage>, PeerDown, Flush,
                            CommitDone>;
  struct Event {
    uint64_t at_ms = 0;
    uint64_t seq = 0;
    size_t node = 0;
    What what;
    uint64_t handle = 0;
    uint64_t incarnation = 0;  // events for an earlier life of a crashed node are dropped
    bool operator>(const Event& o) const { return at_ms != o.at_ms ? at_ms > o.at_ms : seq > o.seq; }
  };
  // What a node keeps beside its engine (the runtime's files in the data dir), kept at once as
  // the runtime fsyncs them.
  struct Kept {
    std::optional<core::ClusterState> cluster_state;
    uint64_t dot_floor = 0;
    std::optional<uint32_t> epoch;  // core/actor_epoch.h
  };
  class Host;
  class Committer;
  // One simulated host: its disk and what it keeps survive crashes; the rest is this life's.
  struct Machine {
    std::unique_ptr<SimDisk> disk;
    Kept kept;
    std::unique_ptr<core::Node> node;
    std::unique_ptr<Host> host;
    std::unique_ptr<Committer> committer;  // with DiskSync::always; else updates run inline
    std::unique_ptr<node::EffectRunner> runner;
  };
  struct XxhDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };

  void push(uint64_t at_ms, size_t node, What what, uint64_t handle = 0);
  void deliver(Event& e);
  void send(size_t from, core::MemberIndex to, const core::PeerMessage& message);
  void reply(size_t node, core::RequestId client, core::ClientResponse response);
  // How far a write seen by stored() got: stored (synced), written with a failed fsync, or sent
  // out before the coordinator stored it.
  enum class Durable { yes, write_failed, sent };
  void stored(size_t node, uint32_t partition, const std::string& key, bool coordinator, const std::string& object,
              Durable durable);
  void poll_joins();
  // `node` (re)started: every running node and it connect to each other, as their transports do.
  void connect(size_t node);
  // A life of node i: its core::Node in `epoch`, and what carries out its effects.
  void start(size_t i, uint32_t epoch);
  // Node i's zone (ClusterOptions::zones); empty without zones.
  std::string zone(size_t i) const;
  node::ApplyFn apply_fn(size_t node) const;
  // The id node i's coordinator writes are made under (ClusterOptions::buggy_ids aside, its actor).
  std::string actor_of(size_t node) const;
  // Distinct nodes whose disk holds `dot` of `key`, as data or as a hint.
  size_t holders(const std::string& key, const core::Dot& dot) const;

  ClusterOptions options_;
  Rng rng_;
  std::vector<std::string> addresses_;  // per node; founders sorted, so founder i is member i
  std::vector<std::string> ids_;        // per node
  core::Ring ring_;
  std::optional<core::ClusterState> newest_;  // every state kept, merged: its ring is ring_
  std::vector<Machine> machines_;
  std::vector<bool> up_;
  std::vector<bool> member_;
  std::vector<std::optional<size_t>> joining_via_;
  uint64_t next_join_poll_ms_ = 0;
  std::vector<uint64_t> incarnation_;
  SendObserver send_observer_;
  std::vector<uint64_t> slow_ms_;
  std::vector<int> group_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::map<uint64_t, core::ClientRequest> requests_;  // writes in flight, for the W check at their answer
  std::map<uint64_t, core::ClientResponse> responses_;
  std::vector<StoredWrite> stored_writes_;
  std::vector<ReapedTombstone> reaped_;
  std::vector<Crash> crashes_;
  std::vector<Crash> disk_failures_;
  std::vector<ThinAck> thin_acks_;
  uint64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t next_handle_ = 1;
  std::unique_ptr<XXH3_state_t, XxhDeleter> trace_state_;
  std::string trace_;
};

}  // namespace md::sim
