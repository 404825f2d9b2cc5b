#include "core/outbox.h"

namespace md::core {

RequestId Outbox::storage(Part part, uint32_t partition, std::string key, std::optional<StorageUpdate> update) {
  const RequestId op = next_id();
  // Only an update needs its key back: it changes the anti-entropy tree.
  storage_.emplace(op, Pending{part, partition, update ? key : std::string(), update.has_value()});
  push(StorageOp{op, partition, std::move(key), std::move(update)});
  return op;
}

void Outbox::answer(const Origin& origin, ClientResponse response) {
  if (response.outcome == Outcome::unavailable) ++unavailable_answers_;
  if (origin.from_peer) {
    send(origin.peer, ForwardReply{origin.id, std::move(response)});
  } else {
    push(ReplyClient{origin.id, std::move(response)});
  }
}

void Outbox::fail(const Origin& origin, Outcome outcome, std::string message, uint32_t acknowledged,
                  uint32_t required) {
  ClientResponse response;
  response.outcome = outcome;
  response.message = std::move(message);
  response.acknowledged = acknowledged;
  response.required = required;
  answer(origin, std::move(response));
}

std::vector<std::string_view> Outbox::updating(uint32_t partition) const {
  std::vector<std::string_view> keys;
  for (const auto& [op, pending] : storage_) {
    if (pending.update && pending.partition == partition) keys.push_back(pending.key);
  }
  return keys;
}

std::optional<Outbox::Pending> Outbox::complete(RequestId op) {
  auto it = storage_.find(op);
  if (it == storage_.end()) return std::nullopt;
  Pending pending = std::move(it->second);
  storage_.erase(it);
  return pending;
}

}  // namespace md::core
