// Carries out a core::Node's effects against a storage engine, a network and the host's durable
// metadata: the one interpreter of the core's effects, run unchanged by the real node
// (runtime/server.cc) and by every simulated node (sim/cluster.cc).
//
// Per pass over the effects it takes from the node:
//  - messages go to Host::send, replies to Host::reply, warnings to Host::warn;
//  - the cluster state and the dot floor are kept through the host (durably) before the effects
//    after them; removals after a dot floor that could not be kept do not happen (they would let
//    reaped dots be made again);
//  - reads, scans (anti-entropy's segments, a key listing's page) and removals run on the engine at once (reads hit the memtable and the
//    caches; a round trip elsewhere would cost more than the read), and their completions go back
//    to the node after the pass;
//  - the pass's updates go to the engine as one batch: through the Committer when they must be
//    fsynced (it batches them with whatever else queued during its last fsync, and completes them
//    later), or inline otherwise. Through the Committer, a coordinator's write is also reported
//    to the node once its object is decided (core::Node::on_storage_applied), so that the node
//    sends it to the replicas while its own copy is written and synced.
// Every completion feeds the node, whose new effects are carried out in turn, until none is left.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/messages.h"
#include "core/node.h"
#include "core/replica.h"
#include "node/commit_queue.h"
#include "storage/engine.h"

namespace md::node {

// What the runner needs of the process it runs in.
class Host {
 public:
  virtual ~Host() = default;
  virtual uint64_t now_ms() const = 0;
  // Sends `message` to a peer; a peer that cannot be reached is reported to the node later
  // (core::Node::on_peer_down), never from inside this call.
  virtual void send(core::MemberIndex to, const core::PeerMessage& message) = 0;
  virtual void reply(core::RequestId client, core::ClientResponse response) = 0;
  // Keep these durably (a restart serves by them). The cluster state's new members become peers.
  virtual Status keep_cluster_state(const core::ClusterState& state) = 0;
  virtual Status keep_dot_floor(uint64_t floor) = 0;
  virtual void warn(const std::string& message) = 0;
  // A storage operation failed (the node gets the error too): logs it.
  virtual void storage_failed(std::string_view what, const Status& status) = 0;
  // Observation points for the simulator's checker; the real node ignores them. An update of
  // `key` stored `done.object` (a coordinator's write when `coordinator`), or, with an error in
  // `done.status`, wrote it but failed to sync it: it may come back after a crash, or not. A
  // removal took away `previous`.
  virtual void stored(uint32_t /*partition*/, const std::string& /*key*/, bool /*coordinator*/,
                      const core::StorageDone& /*done*/) {}
  virtual void removed(uint32_t /*partition*/, const std::string& /*key*/, const std::string& /*previous*/) {}
  // A coordinator's write of `key` went out as `object` before its own copy was stored
  // (core::Node::on_storage_applied): its dot is made, though its own copy may yet fail.
  virtual void sent(uint32_t /*partition*/, const std::string& /*key*/, const std::string& /*object*/) {}
};

// Runs batches of updates that must be fsynced, elsewhere and later: on the durable writer's
// thread (runtime/durable_writer.h) or at a later virtual moment (the simulator). Both callbacks
// run on the runner's thread, with one result per update, in order: `applied` (if given) once the
// updates have decided their bytes (storage::Engine::prepare), while the batch is being written
// and synced; `done` once it is.
class Committer {
 public:
  virtual ~Committer() = default;
  virtual void submit(std::vector<storage::Update> updates, CommitQueue::Applied applied, CommitQueue::Done done) = 0;
};

// The storage step of an update: core::apply_update. Mutation tests give a broken one.
using ApplyFn = std::function<Result<core::Applied>(uint32_t partition, std::optional<std::string_view> current,
                                                    const core::StorageUpdate& update)>;
ApplyFn core_apply();

class EffectRunner {
 public:
  // `committer` null: updates are written inline (no fsync to wait for).
  EffectRunner(core::Node& node, storage::Engine& engine, Committer* committer, Host& host,
               ApplyFn apply = core_apply());
  EffectRunner(const EffectRunner&) = delete;
  EffectRunner& operator=(const EffectRunner&) = delete;

  // At start, before serving: the anti-entropy trees and the tombstones from what the engine
  // holds, and the hints it kept. Returns the number of keys loaded.
  Result<uint64_t> recover();

  // Carries out the node's effects until it has none left. Re-entrant calls (from a completion
  // inside a pass) return at once: the pass that runs picks their effects up.
  void run();

  // The node's entry points, each followed by run().
  void client_request(core::RequestId client, core::ClientRequest request);
  void peer_message(core::MemberIndex from, core::PeerMessage message);
  void peer_up(core::MemberIndex peer);
  void peer_down(core::MemberIndex peer);
  void tick();

 private:
  // An update on its way through the engine; the batch's update functions (which may run on
  // another thread) leave what they saw in `notes`.
  struct PendingUpdate {
    core::RequestId op = 0;
    uint32_t partition = 0;
    std::string key;
    bool coordinator = false;
  };
  struct Notes {
    std::vector<uint64_t> previous_hash;  // of the bytes each update replaced
    std::vector<char> dot_collision;      // each update's merge met a dot made twice
  };

  core::StorageDone read(const core::StorageOp& op);
  core::StorageDone remove(const core::StorageOp& op);
  core::ScanDone scan(const core::ScanSegments& scan);
  core::ScanDone scan_keys(const core::ScanKeys& scan);
  storage::Update to_update(core::StorageOp op, const std::shared_ptr<Notes>& notes, size_t index);
  CommitQueue::Applied applied_callback(const std::vector<PendingUpdate>& updates);
  void updates_done(const std::vector<PendingUpdate>& updates, const Notes& notes,
                    std::vector<storage::UpdateResult> results);

  core::Node& node_;
  storage::Engine& engine_;
  Committer* committer_;
  Host& host_;
  ApplyFn apply_;
  bool running_ = false;
};

}  // namespace md::node
