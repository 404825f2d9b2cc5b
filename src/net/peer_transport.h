// The peer transport: frames between the nodes of a cluster, over TCP.
//
// Nodes are numbered 0..k-1. Each node keeps ONE outgoing connection per peer and sends
// everything for that peer over it (requests and replies alike; matching them is the caller's
// business), and reads what peers send on the connections they open to it. Promises:
//  - the first frame on an outgoing connection is a hello (magic, version, sender index, cluster
//    fingerprint); an incoming connection with a bad or missing hello (handshake timeout) is closed;
//  - garbage, a bad checksum or an oversized frame closes that connection only; it is logged and
//    counted, and the node keeps serving;
//  - sends never block: frames queue per peer and are written in batches; a peer that stops reading
//    (queue over its limit, or no write progress within the stall timeout) is closed as hung;
//  - outgoing connections are made at start and after a loss, with exponential backoff and jitter;
//    on_peer_down is called once per loss, and send() returns false while a peer is down.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (ARCHITECTURE.md)

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace md::net {

using NodeIndex = uint32_t;

struct PeerTransportOptions {
  uint32_t frame_bytes_max = 16 << 20;        // larger incoming frames close the connection
  size_t send_queue_bytes_max = 64 << 20;     // per peer; beyond it the peer counts as hung
  uint32_t handshake_timeout_ms = 2000;       // an incoming connection must say hello within this
  uint32_t connect_timeout_ms = 1000;
  uint32_t backoff_initial_ms = 50;           // reconnect delay, doubling up to backoff_max_ms
  uint32_t backoff_max_ms = 2000;
  uint32_t stall_timeout_ms = 5000;           // queued bytes with no write progress this long: hung
};

class PeerTransport {
 public:
  struct Handler {  // every callback runs on the io_context's thread
    virtual ~Handler() = default;
    virtual void on_peer_message(NodeIndex from, std::string payload) = 0;
    virtual void on_peer_up(NodeIndex peer) = 0;    // outgoing connection established, hello sent
    virtual void on_peer_down(NodeIndex peer) = 0;  // outgoing connection lost; its queue was dropped
  };
  struct Counters {
    uint64_t frames_sent = 0, frames_received = 0, bytes_sent = 0, bytes_received = 0;
    uint64_t connects = 0, connect_failures = 0;
    uint64_t closed_bad_frame = 0, closed_bad_handshake = 0, closed_hung = 0, closed_oversized = 0;
    uint64_t dropped_sends = 0;
  };

  // peers[i] is node i's peer endpoint (peers[self] is where this node listens).
  PeerTransport(boost::asio::io_context& io, NodeIndex self, uint64_t cluster_fingerprint,
                std::vector<boost::asio::ip::tcp::endpoint> peers, Handler& handler, PeerTransportOptions options);
  ~PeerTransport();

  // Binds the peer port and starts connecting to every peer. The error names the address.
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);
  // Queues a payload for `to`; false (and counted) when the connection to `to` is down.
  bool send(NodeIndex to, std::string payload);
  bool is_up(NodeIndex peer) const;
  Counters counters() const;
  // Closes everything; no callback runs after it.
  void stop();

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace md::net
