// The reads this node coordinates (Dynamo's get state machine): ask the key's N replicas, answer
// with the merge of the first R replies (their siblings and joined context), then repair every
// replica that answered with less, including those that answer within the read-repair window
// after the answer. An inspect (Op::inspect) waits for every replica instead, answers each one's
// own copy beside what the first R replies merge to, and repairs nothing.
#pragma once

#include <cstddef>
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
  // `origin` once `r` replied, or 503 once R is out of reach or at the deadline. An `inspect`
  // answers once every replica replied or failed (at the latest at the deadline).
  void start(Outbox& out, uint64_t now_ms, const Origin& origin, std::string key, uint32_t partition,
             std::vector<MemberIndex> replicas, uint32_t r, bool inspect = false);
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
  enum class Slot : uint8_t { waiting, replied, failed, error };  // failed: no answer; error: a failed one
  struct PendingRead {
    Origin origin;
    std::string key;
    uint32_t partition = 0;
    std::vector<MemberIndex> replicas;
    std::vector<Slot> slots;
    std::vector<std::optional<std::string>> objects;
    std::vector<size_t> arrivals;  // replied slots, in the order their replies came
    uint32_t r = 0;
    uint64_t deadline_ms = 0;
    bool answered = false;
    bool inspect = false;
  };

  void replied(Outbox& out, uint64_t now_ms, RequestId id, size_t slot, Slot outcome, std::optional<std::string> object);
  void check(Outbox& out, uint64_t now_ms, RequestId id);
  void answer_inspect(Outbox& out, const PendingRead& read);
  void repair(Outbox& out, const PendingRead& read);
  // The replies merged: every one, or the first `first` to arrive.
  static DvvSet merge_replies(const PendingRead& read, size_t first = SIZE_MAX);
  // A read's answer from its merged replies (ok with the live siblings, or not_found).
  static ClientResponse read_answer(const DvvSet& merged, uint32_t replies);

  MemberIndex self_;
  ReadOptions options_;
  std::map<RequestId, PendingRead> reads_;
  std::map<RequestId, std::pair<RequestId, size_t>> local_reads_;  // storage op -> (read, slot)
  ReadCounters counters_;
};

}  // namespace md::core
