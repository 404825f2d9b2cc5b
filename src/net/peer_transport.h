// Peer transport: framed, checksummed messages between the nodes of a cluster.
//
// Nodes are numbered 0..k-1 (their MemberIndex); a node that joins gets the next number
// (add_peer). A hello from a number this node does not know yet is refused like any bad
// hello, and the sender retries with backoff until gossip told us about it. Each node keeps ONE outgoing TCP connection per peer and
// sends everything for that peer on it (requests and replies alike; request ids are the
// caller's business), and reads the incoming connections that peers open to it. Messages
// sent to one peer arrive in the order sent while the connection stays up; a message
// queued when the connection drops is lost (on_peer_down says so), never duplicated.
//
// Wire: every frame is `u32 len | u32 xxh32 | payload` (net/frame.h). The first frame on
// a connection is a fixed hello (magic "MDPEER", version, sender index, cluster
// fingerprint); the receiver closes a connection whose hello is wrong or late, and any
// connection that sends a bad frame, without affecting the others.
//
// TLS (options.tls_server and tls_client set, from --tls-*): every connection, both ways, is mutual
// TLS under the cluster's CA, and the frames above travel inside it unchanged. The acceptor requires
// a client certificate the CA signed; the dialer verifies the server's certificate against the CA and
// presents its own. A connection whose handshake fails (clear text, no certificate, another CA) or
// does not end within handshake_timeout_ms is closed and counted (tls_refused_*); refusals are
// logged at most once per 10 s (both ways), so a stranger knocking in a loop cannot flood the log.
//
// Compression: a frame towards a peer is compressed (net/frame.h) only once that peer said it
// decodes the codec: its Hello (a core message the runtime decodes) carries the set, handed here
// with set_peer_decodes(). The set holds while the incoming connection that brought it stays up,
// so a peer restarted without compression, or as an older version, is sent plain frames again.
// Incoming compressed frames are inflated up to frame_bytes_max; a bomb closes the connection.
//
// Outgoing connections open lazily on the first send() to a peer (or on connect_all()).
// After a failure or loss the peer is "down": send() refuses at once and the transport
// reconnects by itself with exponential backoff plus jitter. A peer that stops reading
// cannot block the node: the send queue is bounded and writes that make no progress for
// stall_timeout_ms close the connection.
//
// Threading: every method and every callback runs on the io_context's thread (one
// thread runs the io_context). No method blocks.
#pragma once

#include <utility>  // before Asio: Boost 1.74's awaitable.hpp uses std::exchange unincluded

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "net/compression.h"
#include "net/tls.h"

namespace md::net {

using NodeIndex = uint32_t;

// Hello payload layout: magic | u8 version | u32 LE sender | u64 LE cluster_fingerprint.
inline constexpr char kHelloMagic[6] = {'M', 'D', 'P', 'E', 'E', 'R'};
inline constexpr uint8_t kPeerProtocolVersion = 1;
inline constexpr size_t kHelloPayloadBytes = sizeof(kHelloMagic) + 1 + 4 + 8;

// The hello payload a node with index `sender` sends first on each outgoing connection.
std::string make_hello_payload(NodeIndex sender, uint64_t cluster_fingerprint);

// Where a peer listens: a host name or IP address and a port. The name is resolved again at every
// connect, so a peer that comes back under the same name with a new IP (a restarted pod) is found.
struct PeerAddress {
  std::string host;
  uint16_t port = 0;
  std::string to_string() const { return host + ":" + std::to_string(port); }
  bool operator==(const PeerAddress&) const = default;
};

struct PeerTransportOptions {
  // Largest payload sent or accepted; a bigger incoming frame closes the connection, and so
  // does a compressed one that inflates past it. At most kFrameBodyBytesMax.
  uint32_t frame_bytes_max = 16 << 20;
  // The codecs this node decodes and advertises, in the order it prefers to send with them;
  // empty (--compression off): advertises none, compresses nothing. It still inflates what a
  // peer sends compressed (it decodes every codec the frame format has).
  std::vector<Codec> compression = {Codec::zstd, Codec::lz4};
  // Payloads shorter than this are sent as they are (compressing them costs more than it saves).
  uint32_t compression_min_bytes = 512;
  // Bytes queued per peer (not yet written to the socket). Over it, the connection is
  // declared hung and closed; while the first connection is still being set up, the
  // send that would exceed it is refused instead.
  size_t send_queue_bytes_max = 64 << 20;
  // An incoming connection must complete its TLS handshake (with TLS) and deliver its hello within this.
  uint32_t handshake_timeout_ms = 2000;
  // An outgoing connect (with TLS, its handshake included) that has not completed within this counts as failed.
  uint32_t connect_timeout_ms = 1000;
  // Reconnect delay after a failure: starts at initial, doubles up to max, and is
  // drawn uniformly from [delay/2, delay] (jitter) so nodes do not reconnect in lockstep.
  // It resets to initial only after a connection stayed up for backoff_max_ms, so a
  // peer that accepts and then refuses us (wrong fingerprint) is not hammered.
  uint32_t backoff_initial_ms = 50;
  uint32_t backoff_max_ms = 2000;
  // Queued bytes that make no write progress for this long => peer hung, close.
  uint32_t stall_timeout_ms = 5000;
  // Incoming connections held at once (including ones still in the handshake); over it a
  // new connection is closed at once. Bounds what strangers on the port can make us hold.
  size_t incoming_connections_max = 1024;
  // Both set (--tls-*) or neither (clear text). Asked for the context at each accept (a server
  // context made with ClientCertificate::required) and each connect (a client context that presents
  // this node's certificate), so a context replaced meanwhile (a reload) serves every later
  // connection while open ones keep theirs.
  std::function<std::shared_ptr<TlsContext>()> tls_server;
  std::function<std::shared_ptr<TlsContext>()> tls_client;
  // Seed of the jitter rng (mixed with the node's own index). Fixed for reproducible runs.
  uint64_t jitter_seed = 0x6d645f6e6574;
};

class PeerTransport {
 public:
  struct Handler {  // all callbacks run on the io_context thread
    virtual ~Handler() = default;
    // One payload from peer `from`, in the order that peer sent them on its connection.
    virtual void on_peer_message(NodeIndex from, std::string payload) = 0;
    // Outgoing connection to peer established (after the hello was written).
    virtual void on_peer_up(NodeIndex peer) = 0;
    // Outgoing connection lost or failed; messages still queued for it were dropped.
    // Called once per loss, not once per failed reconnect attempt.
    virtual void on_peer_down(NodeIndex peer) = 0;
  };

  struct Counters {
    uint64_t frames_sent = 0;       // frames fully written to a socket (hellos excluded)
    uint64_t frames_received = 0;   // frames delivered to on_peer_message
    uint64_t frames_compressed_sent = 0;      // frames queued with a compressed body
    uint64_t frames_compressed_received = 0;  // frames delivered that arrived compressed
    uint64_t bytes_sent = 0;        // stream bytes (inside TLS, with TLS), headers and hellos included
    uint64_t bytes_received = 0;
    uint64_t connects = 0;          // outgoing TCP connects that succeeded
    uint64_t connect_failures = 0;  // outgoing connects refused, unreachable, unresolved or timed out
    uint64_t closed_bad_frame = 0;       // incoming: checksum mismatch after the hello
    uint64_t closed_bad_handshake = 0;   // incoming: bad/late/missing hello (any garbage before it)
    uint64_t closed_hung = 0;            // outgoing: stalled writes or send queue over its max
    uint64_t closed_oversized = 0;       // incoming: frame length, or inflated payload, over frame_bytes_max
    uint64_t closed_incoming_eof = 0;    // incoming: the peer closed or reset the connection
    uint64_t closed_outgoing_lost = 0;   // outgoing: EOF, reset, write error or unexpected bytes
    uint64_t closed_over_limit = 0;      // incoming: refused, incoming_connections_max reached
    uint64_t dropped_sends = 0;          // send() returned false
    uint64_t dropped_queued = 0;         // messages queued (send() returned true) but lost with a connection
    uint64_t tls_refused_incoming = 0;   // incoming: TLS handshake failed or timed out (clear text, no or a foreign certificate)
    // Outgoing: our TLS handshake failed (the server's certificate did not verify, or it refused
    // ours), or the connection ended with a TLS error right after it (TLS 1.3 servers refuse a
    // client certificate after the client has finished its side of the handshake).
    uint64_t tls_refused_outgoing = 0;
  };

  // `peers[i]` is the address of node i; peers[self] is unused. `handler` must outlive
  // the transport or the call to stop(), whichever comes first.
  PeerTransport(boost::asio::io_context& io, NodeIndex self, uint64_t cluster_fingerprint, std::vector<PeerAddress> peers,
                Handler& handler, PeerTransportOptions options);
  ~PeerTransport();  // calls stop()
  PeerTransport(const PeerTransport&) = delete;
  PeerTransport& operator=(const PeerTransport&) = delete;

  // Binds and starts accepting peers on `endpoint`. Returns io_error naming the address
  // when it cannot (e.g. the port is taken). Call at most once.
  Status listen(const boost::asio::ip::tcp::endpoint& endpoint);

  // Adds a peer (a member that joined the cluster) with the next index, and returns that index.
  NodeIndex add_peer(PeerAddress address);
  // Where `peer` is reached; set_address (a member that moved) takes effect at the next connect.
  const PeerAddress& address(NodeIndex peer) const;
  void set_address(NodeIndex peer, PeerAddress address);

  // Starts connecting to every peer now instead of on the first send(), so on_peer_up
  // and on_peer_down report reachability early.
  void connect_all();

  // Queues payload for `to` (to != self, to < number of peers). Returns false, counting a
  // dropped send, when the peer is down, the payload is over frame_bytes_max, the queue
  // is full, or the transport is stopped; the caller treats false as "peer unreachable".
  // Before the first connection attempt ends the peer counts as connecting: the payload
  // is queued (and the connect started) and true is returned.
  bool send(NodeIndex to, std::string payload);

  // The codecs this node advertises (options.compression as a set): what the runtime puts in its Hello.
  CodecSet decodes() const;
  // Peer `peer` decodes `codecs` (its Hello said so): sends to it may be compressed with one of
  // them. Called from on_peer_message, it holds until the incoming connection that delivered
  // that message closes.
  void set_peer_decodes(NodeIndex peer, CodecSet codecs);

  // True while the outgoing connection to `peer` is established.
  bool is_up(NodeIndex peer) const;

  Counters counters() const;

  // Closes every connection and the listener; no callbacks after it returns. Idempotent.
  void stop();

  class Impl;

 private:
  std::shared_ptr<Impl> impl_;  // shared with in-flight operations so they outlive us safely
};

}  // namespace md::net
