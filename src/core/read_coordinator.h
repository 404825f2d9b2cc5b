// The reads this node coordinates (Dynamo's get state machine): ask the key's N replicas, answer
// with the merge of the first R replies (their siblings and joined context), then repair every
// replica that answered with less, including those that answer within the read-repair window
// after the answer.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/dvv_set.h"
#include "core/messages.h"
#include "core/outbox.h"

namespace md::core {

struct ReadOptions {
  uint64_t request_timeout_ms = 2000;     // unanswered by then: 503
  uint64_t read_repair_window_ms = 1000;  // after the answer, late replies within this are repaired too
};

struct ReadCounters {
  uint64_t read_repairs = 0;         // replica copies repaired after reads
  uint64_t bad_replica_objects = 0;  // replies (and, counted by the node, hinted writes) whose object did not decode
};

class ReadCoordinator {
 public:
  ReadCoordinator(MemberIndex self, ReadOptions options) : self_(self), options_(options) {}
  ReadCoordinator(const ReadCoordinator&) = delete;
  ReadCoordinator& operator=(const ReadCoordinator&) = delete;

  // Reads `key` of `partition` from `replicas` (this node among them reads its engine), answers
  // `origin` once `r` replied, or 503 once R is out of reach or at the deadline.
  void start(Outbox& out, uint64_t now_ms, const Origin& origin, std::string key, uint32_t partition,
             std::vector<MemberIndex> replicas, uint32_t r);
  // A replica's answer; one from a member that is not among the read's replicas is ignored.
  void on_reply(Outbox& out, uint64_t now_ms, MemberIndex from, ReplicaReadReply reply);
  // The completion of a storage operation this part started (Part::reads).
  void on_storage_done(Outbox& out, uint64_t now_ms, StorageDone done);
  // What `peer` still owed counts as failed.
  void on_peer_down(Outbox& out, uint64_t now_ms, MemberIndex peer);
  void on_tick(Outbox& out, uint64_t now_ms);

  size_t pending() const { return reads_.size(); }
  const ReadCounters& counters() const { return counters_; }

 private:
  enum class Slot : uint8_t { waiting, replied, failed };
  struct PendingRead {
    Origin origin;
    std::string key;
    uint32_t partition = 0;
    std::vector<MemberIndex> replicas;
    std::vector<Slot> slots;
    std::vector<std::optional<std::string>> objects;
    uint32_t r = 0;
    uint64_t deadline_ms = 0;
    bool answered = false;
  };

  void replied(Outbox& out, uint64_t now_ms, RequestId id, size_t slot, bool ok, std::optional<std::string> object);
  void check(Outbox& out, uint64_t now_ms, RequestId id);
  void repair(Outbox& out, const PendingRead& read);
  static DvvSet merge_replies(const PendingRead& read);

  MemberIndex self_;
  ReadOptions options_;
  std::map<RequestId, PendingRead> reads_;
  std::map<RequestId, std::pair<RequestId, size_t>> local_reads_;  // storage op -> (read, slot)
  ReadCounters counters_;
};

}  // namespace md::core
