#include "net/peer_transport.h"

#include <boost/asio.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <deque>
#include <random>

#include "net/frame.h"

namespace md::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using boost::system::error_code;

namespace {

constexpr std::string_view kMagic = "MDPEER";
constexpr uint8_t kVersion = 1;
constexpr size_t kHelloBytes = 6 + 1 + 4 + 8;

std::string hello(NodeIndex self, uint64_t fingerprint) {
  std::string h(kMagic);
  h.push_back(static_cast<char>(kVersion));
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((self >> (8 * i)) & 0xff));
  for (int i = 0; i < 8; ++i) h.push_back(static_cast<char>((fingerprint >> (8 * i)) & 0xff));
  return h;
}

}  // namespace

class PeerTransport::Impl : public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, NodeIndex self, uint64_t fingerprint, std::vector<tcp::endpoint> endpoints,
       Handler& handler, PeerTransportOptions options)
      : io_(io), self_(self), fingerprint_(fingerprint), handler_(handler), options_(options), acceptor_(io),
        rng_(self * 7919 + 17) {
    for (NodeIndex i = 0; i < endpoints.size(); ++i) peers_.push_back(std::make_unique<Peer>(io, i, endpoints[i]));
  }

  Status listen(const tcp::endpoint& endpoint) {
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Status::io_error("cannot listen for peers on " + endpoint.address().to_string() + ":" +
                              std::to_string(endpoint.port()) + ": " + ec.message());
    }
    auto self = shared_from_this();
    asio::co_spawn(io_, accept_loop(self), asio::detached);
    for (auto& peer : peers_) {
      if (peer->index != self_) asio::co_spawn(io_, connect_loop(self, peer->index), asio::detached);
    }
    return Status::ok();
  }

  bool send(NodeIndex to, std::string payload) {
    if (stopped_ || to >= peers_.size() || to == self_) return false;
    Peer& peer = *peers_[to];
    if (peer.state == State::down) {
      ++counters_.dropped_sends;
      return false;
    }
    peer.queued_bytes += kFrameHeaderBytes + payload.size();
    peer.queue.push_back(encode_frame(payload));
    if (peer.queued_bytes > options_.send_queue_bytes_max) {
      ++counters_.closed_hung;
      spdlog::warn("peer {}: send queue over {} bytes, closing it as hung", endpoint_name(peer), options_.send_queue_bytes_max);
      close(peer);
      return false;
    }
    peer.wake.cancel();  // the writer waits on this timer when the queue is empty
    return true;
  }

  bool is_up(NodeIndex peer) const { return peer < peers_.size() && peers_[peer]->state == State::up; }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    error_code ignored;
    acceptor_.close(ignored);
    for (auto& peer : peers_) {
      peer->stream.socket().close(ignored);
      peer->wake.cancel();
      peer->backoff.cancel();
      peer->stall.cancel();
    }
    for (auto* socket : incoming_) socket->close(ignored);
  }

  Counters counters_;

 private:
  enum class State { connecting, up, down };
  struct Peer {
    Peer(asio::io_context& io, NodeIndex i, tcp::endpoint e)
        : index(i), endpoint(e), stream(io), wake(io), backoff(io), stall(io) {}
    NodeIndex index;
    tcp::endpoint endpoint;
    beast::tcp_stream stream;
    asio::steady_timer wake;     // wakes the writer when frames are queued
    asio::steady_timer backoff;  // the delay before a reconnect
    asio::steady_timer stall;    // fires when a batch makes no progress: the peer is hung
    State state = State::connecting;
    std::deque<std::string> queue;
    size_t queued_bytes = 0;
    uint64_t generation = 0;     // bumped on each loss, so stale coroutines stop
  };

  static std::string endpoint_name(const Peer& peer) {
    return std::to_string(peer.index) + " (" + peer.endpoint.address().to_string() + ":" +
           std::to_string(peer.endpoint.port()) + ")";
  }

  // Drops the connection; the connect loop notices and reconnects after a backoff.
  void close(Peer& peer) {
    if (peer.state == State::down) return;
    bool was_up = peer.state == State::up;
    peer.state = State::down;
    ++peer.generation;
    peer.queue.clear();
    peer.queued_bytes = 0;
    error_code ignored;
    peer.stream.socket().close(ignored);
    peer.wake.cancel();
    if (!stopped_ && was_up) handler_.on_peer_down(peer.index);
  }

  static asio::awaitable<void> connect_loop(std::shared_ptr<Impl> self, NodeIndex index) {
    Peer& peer = *self->peers_[index];
    uint32_t delay_ms = self->options_.backoff_initial_ms;
    while (!self->stopped_) {
      error_code ec;
      peer.stream.expires_after(std::chrono::milliseconds(self->options_.connect_timeout_ms));
      co_await peer.stream.async_connect(peer.endpoint, asio::redirect_error(asio::use_awaitable, ec));
      if (self->stopped_) co_return;
      if (!ec) {
        peer.stream.socket().set_option(tcp::no_delay(true), ec);
        ++self->counters_.connects;
        delay_ms = self->options_.backoff_initial_ms;
        uint64_t generation = peer.generation;
        peer.queue.push_front(encode_frame(hello(self->self_, self->fingerprint_)));
        peer.queued_bytes += peer.queue.front().size();
        peer.state = State::up;
        spdlog::info("connected to peer {}", endpoint_name(peer));
        self->handler_.on_peer_up(index);
        asio::co_spawn(self->io_, watch(self, index, generation), asio::detached);
        co_await write_loop(self, index, generation);
        if (self->stopped_) co_return;
      } else {
        ++self->counters_.connect_failures;
        if (peer.state == State::connecting) {
          // Never connected yet: queued frames cannot be delivered; drop them and report.
          peer.state = State::up;  // so close() reports the loss once
          self->close(peer);
        }
        spdlog::debug("cannot connect to peer {}: {}", endpoint_name(peer), ec.message());
      }
      // Exponential backoff with jitter, so restarted clusters do not reconnect in lockstep.
      uint32_t jitter = static_cast<uint32_t>(self->rng_() % (delay_ms / 2 + 1));
      peer.backoff.expires_after(std::chrono::milliseconds(delay_ms + jitter));
      co_await peer.backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      delay_ms = std::min(delay_ms * 2, self->options_.backoff_max_ms);
      if (!self->stopped_) peer.state = State::connecting;
    }
  }

  // Writes queued frames in batches until the connection is lost.
  static asio::awaitable<void> write_loop(std::shared_ptr<Impl> self, NodeIndex index, uint64_t generation) {
    Peer& peer = *self->peers_[index];
    std::string batch;
    while (!self->stopped_ && peer.generation == generation) {
      if (peer.queue.empty()) {
        error_code ec;
        peer.wake.expires_at(asio::steady_timer::time_point::max());
        co_await peer.wake.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      batch.clear();
      size_t frames = 0;
      while (!peer.queue.empty() && batch.size() < (1 << 20)) {
        batch += peer.queue.front();
        peer.queued_bytes -= peer.queue.front().size();
        peer.queue.pop_front();
        ++frames;
      }
      // A batch that is not written within the stall timeout means the peer stopped reading.
      peer.stall.expires_after(std::chrono::milliseconds(self->options_.stall_timeout_ms));
      peer.stall.async_wait([self, &peer, generation](error_code e) {
        if (e || peer.generation != generation) return;
        ++self->counters_.closed_hung;
        spdlog::warn("peer {} made no progress for {} ms, closing it as hung", endpoint_name(peer),
                     self->options_.stall_timeout_ms);
        self->close(peer);
      });
      error_code ec;
      co_await asio::async_write(peer.stream.socket(), asio::buffer(batch), asio::redirect_error(asio::use_awaitable, ec));
      peer.stall.cancel();
      if (peer.generation != generation) co_return;
      if (ec) {
        spdlog::warn("lost the connection to peer {}: {}", endpoint_name(peer), ec.message());
        self->close(peer);
        co_return;
      }
      self->counters_.frames_sent += frames;
      self->counters_.bytes_sent += batch.size();
    }
  }

  // Peers never send on our outgoing connection: a completed read means it was closed or reset.
  static asio::awaitable<void> watch(std::shared_ptr<Impl> self, NodeIndex index, uint64_t generation) {
    Peer& peer = *self->peers_[index];
    char byte;
    error_code ec;
    co_await peer.stream.socket().async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
    if (self->stopped_ || peer.generation != generation) co_return;
    spdlog::warn("peer {} closed our connection: {}", endpoint_name(peer), ec ? ec.message() : "unexpected bytes");
    self->close(peer);
  }

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    while (!self->stopped_) {
      error_code ec;
      tcp::socket socket = co_await self->acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (self->stopped_) co_return;
      if (ec) continue;
      asio::co_spawn(self->io_, serve_incoming(self, std::move(socket)), asio::detached);
    }
  }

  static asio::awaitable<void> serve_incoming(std::shared_ptr<Impl> self, tcp::socket socket) {
    std::string remote;
    error_code ec;
    auto remote_endpoint = socket.remote_endpoint(ec);
    if (!ec) remote = remote_endpoint.address().to_string() + ":" + std::to_string(remote_endpoint.port());
    self->incoming_.push_back(&socket);
    FrameDecoder decoder(self->options_.frame_bytes_max);
    std::vector<char> buffer(64 * 1024);
    std::optional<NodeIndex> from;
    asio::steady_timer handshake_deadline(self->io_);
    handshake_deadline.expires_after(std::chrono::milliseconds(self->options_.handshake_timeout_ms));
    handshake_deadline.async_wait([&socket, &from](error_code e) {
      error_code ignored;
      if (!e && !from) socket.close(ignored);
    });
    std::string reason;
    while (!self->stopped_) {
      size_t n = co_await socket.async_read_some(asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (!from && ec == asio::error::operation_aborted) {
          ++self->counters_.closed_bad_handshake;
          reason = "no hello within the handshake timeout";
        }
        break;
      }
      self->counters_.bytes_received += n;
      decoder.feed(buffer.data(), n);
      bool closing = false;
      while (!closing) {
        auto frame = decoder.next();
        if (!frame.is_ok()) {
          ++(frame.status().code() == Code::too_large ? self->counters_.closed_oversized : self->counters_.closed_bad_frame);
          if (!from) ++self->counters_.closed_bad_handshake;
          reason = frame.status().message();
          closing = true;
        } else if (!*frame) {
          break;
        } else if (!from) {
          from = self->check_hello(**frame, &reason);
          closing = !from;
          if (closing) ++self->counters_.closed_bad_handshake;
          handshake_deadline.cancel();
        } else {
          ++self->counters_.frames_received;
          self->handler_.on_peer_message(*from, std::move(**frame));
          if (self->stopped_) closing = true;
        }
      }
      if (closing) break;
    }
    if (!reason.empty()) spdlog::warn("closing the peer connection from {}: {}", remote, reason);
    std::erase(self->incoming_, &socket);
    handshake_deadline.cancel();
    socket.close(ec);
  }

  std::optional<NodeIndex> check_hello(const std::string& h, std::string* reason) {
    if (h.size() != kHelloBytes || h.compare(0, kMagic.size(), kMagic) != 0) {
      *reason = "the first frame is not a Mini Dynamo peer hello";
      return std::nullopt;
    }
    if (static_cast<uint8_t>(h[6]) != kVersion) {
      *reason = "unsupported peer protocol version " + std::to_string(static_cast<uint8_t>(h[6]));
      return std::nullopt;
    }
    NodeIndex index = 0;
    uint64_t fingerprint = 0;
    for (int i = 0; i < 4; ++i) index |= static_cast<NodeIndex>(static_cast<uint8_t>(h[7 + i])) << (8 * i);
    for (int i = 0; i < 8; ++i) fingerprint |= static_cast<uint64_t>(static_cast<uint8_t>(h[11 + i])) << (8 * i);
    if (fingerprint != fingerprint_) {
      *reason = "the peer belongs to a differently configured cluster (--nodes or --partitions differ)";
      return std::nullopt;
    }
    if (index >= peers_.size() || index == self_) {
      *reason = "the peer claims an invalid node index " + std::to_string(index);
      return std::nullopt;
    }
    return index;
  }

  asio::io_context& io_;
  NodeIndex self_;
  uint64_t fingerprint_;
  Handler& handler_;
  PeerTransportOptions options_;
  tcp::acceptor acceptor_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::vector<tcp::socket*> incoming_;
  std::minstd_rand rng_;
  bool stopped_ = false;
};

PeerTransport::PeerTransport(asio::io_context& io, NodeIndex self, uint64_t cluster_fingerprint,
                             std::vector<tcp::endpoint> peers, Handler& handler, PeerTransportOptions options)
    : impl_(std::make_shared<Impl>(io, self, cluster_fingerprint, std::move(peers), handler, options)) {}
PeerTransport::~PeerTransport() { impl_->stop(); }
Status PeerTransport::listen(const tcp::endpoint& endpoint) { return impl_->listen(endpoint); }
bool PeerTransport::send(NodeIndex to, std::string payload) { return impl_->send(to, std::move(payload)); }
bool PeerTransport::is_up(NodeIndex peer) const { return impl_->is_up(peer); }
PeerTransport::Counters PeerTransport::counters() const { return impl_->counters_; }
void PeerTransport::stop() { impl_->stop(); }

}  // namespace md::net
