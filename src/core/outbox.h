// Where the parts of a node (core/node.h) put what they decide: effects, in the order they were
// decided, request ids, and the storage operations in flight with the part that waits for each.
// The node owns one and passes it into every call of a part that may decide something; no part
// keeps it, so a part's state is its own and its only way out is what it puts here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/messages.h"

namespace md::core {

// Who gets a request's answer: a local client (the runtime's handle) or a peer that forwarded it.
struct Origin {
  bool from_peer = false;
  MemberIndex peer = 0;
  RequestId id = 0;
};

// The part of the node a storage operation's completion goes back to.
enum class Part : uint8_t { writes, reads, replica, handoff, reaper, transfers };

class Outbox {
 public:
  explicit Outbox(RequestId first_id) : next_id_(first_id) {}
  Outbox(const Outbox&) = delete;
  Outbox& operator=(const Outbox&) = delete;

  [[nodiscard]] RequestId next_id() { return next_id_++; }
  void push(Effect effect) { effects_.push_back(std::move(effect)); }
  void send(MemberIndex to, PeerMessage message) { push(SendPeer{to, std::move(message)}); }
  // Reads (update nullopt), updates or removes `key`; returns the operation's id, which the
  // completion (StorageDone::op) carries back to `part`.
  RequestId storage(Part part, uint32_t partition, std::string key, std::optional<StorageUpdate> update);
  // Answers a request: a ReplyClient, or a ForwardReply to the peer that forwarded it.
  void answer(const Origin& origin, ClientResponse response);
  void fail(const Origin& origin, Outcome outcome, std::string message, uint32_t acknowledged = 0,
            uint32_t required = 0);
  std::vector<Effect> take() { return std::exchange(effects_, {}); }

  // A storage operation in flight: which part waits, and, for an update, what it changes.
  struct Pending {
    Part part = Part::writes;
    uint32_t partition = 0;  // a ring partition, or kHintPartition
    std::string key;         // of an update (it changes the anti-entropy tree); empty for a read
    bool update = false;
  };
  // Takes the operation `op` out of flight; nullopt if it is not one (a completion of an earlier life).
  std::optional<Pending> complete(RequestId op);
  // The keys of `partition` with an update in flight.
  std::vector<std::string_view> updating(uint32_t partition) const;
  uint64_t unavailable_answers() const { return unavailable_answers_; }  // 503s: quorum failures

 private:
  std::vector<Effect> effects_;
  RequestId next_id_;
  std::map<RequestId, Pending> storage_;
  uint64_t unavailable_answers_ = 0;
};

}  // namespace md::core
