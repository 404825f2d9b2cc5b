// How a node sees each member of its ring: is the connection up, do heartbeats arrive (phi accrual,
// core/failure_detector.h), and which node id it announced. The node feeds it the connection
// notices and heartbeats; every other part asks it whether a peer is up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/failure_detector.h"
#include "core/outbox.h"
#include "core/ring.h"

namespace md::core {

// How this node sees a peer: its connection is up and heartbeats arrive (up), the connection is
// up but heartbeats stopped (suspect: a hung process, a one-way or silent partition), or the
// connection is down.
enum class PeerStatus : uint8_t { up, suspect, down };
const char* to_string(PeerStatus status);

class Peers {
 public:
  Peers(size_t members, MemberIndex self, const FailureDetectorOptions& options);
  Peers(const Peers&) = delete;
  Peers& operator=(const Peers&) = delete;

  // The ring grew to `members`: the new ones start up (their connections are being made).
  void resize(size_t members);

  size_t size() const { return reachable_.size(); }  // members known, this node included
  PeerStatus status(MemberIndex peer) const;
  bool up(MemberIndex peer) const { return status(peer) == PeerStatus::up; }
  // The failure detector's phi for `peer` at `now_ms` (0 for this node and before any heartbeat).
  double phi(MemberIndex peer, uint64_t now_ms) const;
  // Per member: up and not this node (anti-entropy picks among these).
  std::vector<bool> up_others() const;

  // The connection notices. Each returns false for this node or a member it does not know.
  bool connected(MemberIndex peer);
  bool disconnected(MemberIndex peer);
  void heartbeat(MemberIndex peer, uint64_t now_ms);
  // Updates suspicions, and sends heartbeats to connected peers every heartbeat interval.
  void tick(Outbox& out, uint64_t now_ms);

  // The node id a peer announced in its Hello; empty until then.
  const std::string& node_id(MemberIndex peer) const { return ids_[peer]; }
  void set_node_id(MemberIndex peer, std::string id) { ids_[peer] = std::move(id); }
  uint64_t suspicions() const { return suspicions_; }  // times a peer became suspect

 private:
  MemberIndex self_;
  FailureDetectorOptions options_;
  std::vector<bool> reachable_;  // the connection is up
  std::vector<PhiAccrualDetector> detectors_;
  std::vector<bool> suspected_;
  std::vector<std::string> ids_;
  uint64_t next_heartbeat_ms_ = 0;
  uint64_t suspicions_ = 0;
};

}  // namespace md::core
