#include "net/peer_transport.h"

#include <utility>  // keep first: see the note in the header

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cassert>
#include <chrono>
#include <cstring>
#include <exception>
#include <random>
#include <unordered_map>

#include "net/frame.h"
#include "net/log_limiter.h"
#include "net/mailbox.h"
#include "net/tls_stream.h"

namespace md::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using asio::awaitable;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr size_t kHelloFrameBytes = kFrameHeaderBytes + kHelloPayloadBytes;
constexpr size_t kReadChunkBytes = 64 << 10;
// A send buffer bigger than this is released when the connection goes idle, so one burst
// does not pin its memory for the life of the connection.
constexpr size_t kIdleBufferBytesMax = 1 << 20;
constexpr NodeIndex kUnknownNode = UINT32_MAX;

std::string to_string(const tcp::endpoint& ep) { return ep.address().to_string() + ":" + std::to_string(ep.port()); }

// A read's end as the log says it: a TLS peer that closed without TLS's goodbye closed all the same.
std::string read_ended(const error_code& ec) {
  return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ? "peer closed the connection" : ec.message();
}

// co_spawn completion: an exception escaping a coroutine is a programmer error; surface it.
void rethrow(const std::exception_ptr& e) {
  if (e) std::rethrow_exception(e);
}

void put_le(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

std::string make_hello_payload(NodeIndex sender, uint64_t cluster_fingerprint) {
  std::string out(kHelloMagic, sizeof(kHelloMagic));
  out.push_back(static_cast<char>(kPeerProtocolVersion));
  put_le(out, sender, 4);
  put_le(out, cluster_fingerprint, 8);
  assert(out.size() == kHelloPayloadBytes);
  return out;
}

// ---------------------------------------------------------------------------------------

enum class LinkState {
  idle,        // never tried: the first send() starts connecting
  connecting,  // first attempt under way: sends are queued
  up,          // hello written: sends are queued and written
  down,        // failed or lost; reconnecting with backoff: sends are refused
};

// One outgoing TCP connection attempt and its life. Replaced on every reconnect, so a
// stale operation finds `closed` set and leaves the link alone.
struct OutConn {
  OutConn(asio::io_context& io, std::shared_ptr<TlsContext> tls)
      : stream(tcp::socket(io), std::move(tls)), stall_timer(io), closed_signal(io) {
    closed_signal.expires_at(Clock::time_point::max());
  }
  PlainOrTlsStream stream;
  asio::steady_timer stall_timer;
  asio::steady_timer closed_signal;  // cancelled when the connection closes
  bool closed = false;
  bool connect_timed_out = false;
  bool tls_refused = false;    // the TLS handshake failed
  bool announce_down = false;  // on_peer_down owed for this loss
  bool writing = false;        // a write_loop runs
  bool stall_armed = false;
  Clock::time_point last_progress;
  Clock::time_point up_since;
  std::string retired;  // send buffer of a write in flight at close; kept alive with the op
};

// Everything about the outgoing side to one peer.
struct Link {
  explicit Link(asio::io_context& io) : backoff_timer(io) {}
  LinkState state = LinkState::idle;
  std::shared_ptr<OutConn> conn;
  // Frames queue as bytes: sends append to `pending`; the writer swaps it into `inflight`
  // and writes that in as few syscalls as the socket allows (batching).
  std::string pending;
  uint64_t pending_frames = 0;
  std::string inflight;
  size_t inflight_offset = 0;
  uint64_t inflight_frames = 0;
  uint32_t backoff_ms = 0;
  asio::steady_timer backoff_timer;
  // What the peer decodes (set_peer_decodes), and the incoming connection that told us.
  CodecSet peer_decodes = 0;
  uint64_t decodes_from = UINT64_MAX;
  size_t queued_bytes() const { return pending.size() + inflight.size() - inflight_offset; }
};

struct InConn {
  InConn(tcp::socket s, std::shared_ptr<TlsContext> tls, asio::io_context& io, uint64_t id_)
      : stream(std::move(s), std::move(tls)), handshake_timer(io), id(id_) {}
  PlainOrTlsStream stream;
  asio::steady_timer handshake_timer;
  uint64_t id;
  std::string remote;
  NodeIndex from = kUnknownNode;
  bool tls_done = false;  // the TLS handshake completed (with TLS)
  bool closed = false;
};

enum class CloseReason {
  bad_frame,
  bad_handshake,
  hung,
  oversized,
  incoming_eof,
  outgoing_lost,
  tls_refused_incoming,
  tls_refused_outgoing
};

class PeerTransport::Impl : public std::enable_shared_from_this<PeerTransport::Impl> {
 public:
  Impl(asio::io_context& io, NodeIndex self, uint64_t fingerprint, std::vector<PeerAddress> peers, Handler& handler,
       PeerTransportOptions options)
      : io_(io),
        mailbox_(Mailbox::of(io)),
        self_(self),
        fingerprint_(fingerprint),
        peers_(std::move(peers)),
        handler_(handler),
        opt_(options),
        rng_(options.jitter_seed ^ (uint64_t{self} * 0x9e3779b97f4a7c15ULL)) {
    assert(self_ < peers_.size());
    assert(!opt_.tls_server == !opt_.tls_client);
    assert(opt_.backoff_initial_ms > 0 && opt_.backoff_initial_ms <= opt_.backoff_max_ms);
    assert(opt_.frame_bytes_max <= kFrameBodyBytesMax);
    for (Codec c : opt_.compression) decodes_ |= codec_bit(c);
    for (size_t i = 0; i < peers_.size(); ++i) links_.push_back(std::make_unique<Link>(io_));
  }

  Status listen(const tcp::endpoint& ep);
  void start_link(NodeIndex peer);
  bool send(NodeIndex to, std::string payload);
  bool is_up(NodeIndex peer) const { return peer < links_.size() && links_[peer]->state == LinkState::up; }
  Counters counters() const { return counters_; }
  CodecSet decodes() const { return decodes_; }
  void set_peer_decodes(NodeIndex peer, CodecSet codecs) {
    if (peer >= links_.size()) return;
    links_[peer]->peer_decodes = codecs;
    links_[peer]->decodes_from = delivering_from_;
  }
  void stop();
  size_t peer_count() const { return peers_.size(); }
  NodeIndex add_peer(PeerAddress address) {
    peers_.push_back(std::move(address));
    links_.push_back(std::make_unique<Link>(io_));
    return static_cast<NodeIndex>(peers_.size() - 1);
  }
  NodeIndex self() const { return self_; }
  const PeerAddress& address(NodeIndex peer) const { return peers_[peer]; }
  void set_address(NodeIndex peer, PeerAddress address) { peers_[peer] = std::move(address); }

 private:
  awaitable<void> accept_loop();
  awaitable<void> run_incoming(std::shared_ptr<InConn> c);
  Result<NodeIndex> parse_hello(const std::array<char, kHelloFrameBytes>& frame) const;
  void close_incoming(const std::shared_ptr<InConn>& c, CloseReason reason, const std::string& why);

  awaitable<void> run_link(NodeIndex peer);
  awaitable<error_code> connect(NodeIndex peer, std::shared_ptr<OutConn> conn);
  awaitable<void> run_connection(NodeIndex peer, std::shared_ptr<OutConn> conn);
  awaitable<void> write_loop(NodeIndex peer, std::shared_ptr<OutConn> conn);
  awaitable<void> watch_reads(NodeIndex peer, std::shared_ptr<OutConn> conn);
  void kick_writer(NodeIndex peer);
  void arm_stall_watch(NodeIndex peer, const std::shared_ptr<OutConn>& conn);
  void close_outgoing(NodeIndex peer, const std::shared_ptr<OutConn>& conn, CloseReason reason, const std::string& why);
  uint64_t drop_queue(Link& link, OutConn& conn);
  milliseconds next_backoff(Link& link);
  void count_close(CloseReason reason);

  template <typename F>
  void spawn(F&& coroutine) {
    asio::co_spawn(io_, std::forward<F>(coroutine), rethrow);
  }

  asio::io_context& io_;
  Mailbox& mailbox_;                  // io_'s: names resolved on resolving_ come back through it
  asio::thread_pool resolving_{1};  // getaddrinfo blocks; io_ has no lock for Asio's own resolver thread
  const NodeIndex self_;
  const uint64_t fingerprint_;
  std::vector<PeerAddress> peers_;
  Handler& handler_;
  const PeerTransportOptions opt_;
  std::mt19937_64 rng_;
  bool stopped_ = false;
  std::optional<tcp::acceptor> acceptor_;
  std::vector<std::unique_ptr<Link>> links_;  // index = peer; links_[self_] unused
  std::unordered_map<uint64_t, std::shared_ptr<InConn>> incoming_;
  uint64_t next_incoming_id_ = 0;
  CodecSet decodes_ = 0;                    // what we advertise
  uint64_t delivering_from_ = UINT64_MAX;  // the incoming connection whose message the handler is given
  Counters counters_;
  LogLimiter refusal_log_{std::chrono::seconds(10)};  // of TLS handshakes refused, either way
};

// --------------------------------------------------------------------------- incoming

Status PeerTransport::Impl::listen(const tcp::endpoint& ep) {
  assert(!acceptor_);
  tcp::acceptor acceptor(io_);
  error_code ec;
  acceptor.open(ep.protocol(), ec);
  // reuse_address lets a restarted node bind while old connections sit in TIME_WAIT;
  // Linux still refuses a port another socket is listening on.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    spdlog::error("peer_transport[{}]: cannot listen on {}: {}", self_, to_string(ep), ec.message());
    return Status::io_error("peer transport cannot listen on " + to_string(ep) + ": " + ec.message());
  }
  acceptor_.emplace(std::move(acceptor));
  spdlog::info("peer_transport[{}]: listening on {}", self_, to_string(ep));
  spawn(accept_loop());
  return Status::ok();
}

awaitable<void> PeerTransport::Impl::accept_loop() {
  auto keep = shared_from_this();
  asio::steady_timer pause(io_);
  for (;;) {
    tcp::socket socket(io_);
    error_code ec;
    co_await acceptor_->async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_) co_return;
    if (ec) {
      // E.g. out of file descriptors: pause instead of spinning on the error.
      spdlog::warn("peer_transport[{}]: accept failed: {}; retrying in 100 ms", self_, ec.message());
      pause.expires_after(milliseconds(100));
      co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (stopped_) co_return;
      continue;
    }
    error_code ignored;
    const auto remote = socket.remote_endpoint(ignored);
    if (incoming_.size() >= opt_.incoming_connections_max) {
      ++counters_.closed_over_limit;
      spdlog::warn("peer_transport[{}]: peer ? ({}): refused incoming connection: {} connections open (max)", self_,
                   to_string(remote), incoming_.size());
      socket.close(ignored);
      continue;
    }
    socket.set_option(tcp::no_delay(true), ignored);
    auto c = std::make_shared<InConn>(std::move(socket), opt_.tls_server ? opt_.tls_server() : nullptr, io_,
                                      next_incoming_id_++);
    c->remote = to_string(remote);
    incoming_.emplace(c->id, c);
    spawn(run_incoming(std::move(c)));
  }
}

Result<NodeIndex> PeerTransport::Impl::parse_hello(const std::array<char, kHelloFrameBytes>& frame) const {
  FrameDecoder decoder(kHelloPayloadBytes);
  decoder.feed(frame.data(), frame.size());
  auto r = decoder.next();
  if (!r.is_ok()) return Status::invalid_argument("bad hello frame: " + r.status().message());
  if (!r->has_value() || (*r)->size() != kHelloPayloadBytes) return Status::invalid_argument("hello of the wrong size");
  const std::string& p = **r;
  if (std::memcmp(p.data(), kHelloMagic, sizeof(kHelloMagic)) != 0) return Status::invalid_argument("bad hello magic");
  const char* q = p.data() + sizeof(kHelloMagic);
  const auto version = static_cast<uint8_t>(q[0]);
  if (version != kPeerProtocolVersion) {
    return Status::invalid_argument(fmt::format("unsupported protocol version {} (we speak {})", version, kPeerProtocolVersion));
  }
  const auto from = static_cast<NodeIndex>(get_le(q + 1, 4));
  const uint64_t fingerprint = get_le(q + 5, 8);
  if (from >= peers_.size() || from == self_) {
    return Status::invalid_argument(fmt::format("sender index {} out of range (cluster of {}, self {})", from, peers_.size(), self_));
  }
  if (fingerprint != fingerprint_) {
    return Status::invalid_argument(
        fmt::format("node {} has cluster fingerprint {:016x}, ours is {:016x}", from, fingerprint, fingerprint_));
  }
  return from;
}

awaitable<void> PeerTransport::Impl::run_incoming(std::shared_ptr<InConn> c) {
  auto keep = shared_from_this();
  c->handshake_timer.expires_after(milliseconds(opt_.handshake_timeout_ms));
  c->handshake_timer.async_wait([this, keep, c](const error_code& ec) {
    if (ec || stopped_ || c->closed || c->from != kUnknownNode) return;
    if (c->stream.is_tls() && !c->tls_done) {
      close_incoming(c, CloseReason::tls_refused_incoming,
                     fmt::format("no TLS handshake within {} ms", opt_.handshake_timeout_ms));
    } else {
      close_incoming(c, CloseReason::bad_handshake, fmt::format("no hello within {} ms", opt_.handshake_timeout_ms));
    }
  });

  error_code ec;
  if (c->stream.is_tls()) {
    co_await c->stream.async_handshake(asio::ssl::stream_base::server, asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_ || c->closed) co_return;
    if (ec) {
      close_incoming(c, CloseReason::tls_refused_incoming, "TLS handshake failed: " + ec.message());
      co_return;
    }
    c->tls_done = true;
  }
  // The hello has a fixed size, so read exactly that: nothing a stranger sends before it
  // is buffered beyond those bytes.
  std::array<char, kHelloFrameBytes> hello;
  co_await asio::async_read(c->stream, asio::buffer(hello), asio::redirect_error(asio::use_awaitable, ec));
  if (stopped_ || c->closed) co_return;
  if (ec) {
    close_incoming(c, CloseReason::bad_handshake, "connection ended before the hello: " + ec.message());
    co_return;
  }
  counters_.bytes_received += hello.size();
  auto from = parse_hello(hello);
  if (!from.is_ok()) {
    close_incoming(c, CloseReason::bad_handshake, from.status().message());
    co_return;
  }
  c->from = *from;
  c->handshake_timer.cancel();
  spdlog::info("peer_transport[{}]: peer {} ({}): incoming connection accepted", self_, c->from, c->remote);

  FrameDecoder decoder(opt_.frame_bytes_max);
  std::vector<char> buf(kReadChunkBytes);
  for (;;) {
    const size_t n = co_await c->stream.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_ || c->closed) co_return;
    if (ec) {
      close_incoming(c, CloseReason::incoming_eof, read_ended(ec));
      co_return;
    }
    counters_.bytes_received += n;
    decoder.feed(buf.data(), n);
    uint64_t compressed_seen = decoder.compressed_frames();
    for (;;) {
      auto r = decoder.next();
      if (!r.is_ok()) {
        const bool oversized = r.status().code() == Code::too_large;
        close_incoming(c, oversized ? CloseReason::oversized : CloseReason::bad_frame, r.status().message());
        co_return;
      }
      if (!r->has_value()) break;
      ++counters_.frames_received;
      counters_.frames_compressed_received += decoder.compressed_frames() - compressed_seen;
      compressed_seen = decoder.compressed_frames();
      delivering_from_ = c->id;
      handler_.on_peer_message(c->from, std::move(**r));
      delivering_from_ = UINT64_MAX;
      if (stopped_ || c->closed) co_return;
    }
  }
}

void PeerTransport::Impl::close_incoming(const std::shared_ptr<InConn>& c, CloseReason reason, const std::string& why) {
  if (c->closed) return;
  c->closed = true;
  count_close(reason);
  if (c->from < links_.size() && links_[c->from]->decodes_from == c->id) {
    links_[c->from]->peer_decodes = 0;  // whoever connects next tells us again
    links_[c->from]->decodes_from = UINT64_MAX;
  }
  const std::string who = c->from == kUnknownNode ? std::string("?") : std::to_string(c->from);
  if (reason == CloseReason::incoming_eof) {
    spdlog::info("peer_transport[{}]: peer {} ({}): incoming connection closed: {}", self_, who, c->remote, why);
  } else if (reason == CloseReason::tls_refused_incoming) {
    if (auto more = refusal_log_.allow()) {
      spdlog::warn("peer_transport[{}]: refused an incoming connection from {}: {}{}", self_, c->remote, why, *more);
    }
  } else {
    spdlog::warn("peer_transport[{}]: peer {} ({}): closing incoming connection: {}", self_, who, c->remote, why);
  }
  error_code ignored;
  c->stream.socket().close(ignored);
  c->handshake_timer.cancel();
  incoming_.erase(c->id);
}

void PeerTransport::Impl::count_close(CloseReason reason) {
  switch (reason) {
    case CloseReason::bad_frame: ++counters_.closed_bad_frame; break;
    case CloseReason::bad_handshake: ++counters_.closed_bad_handshake; break;
    case CloseReason::hung: ++counters_.closed_hung; break;
    case CloseReason::oversized: ++counters_.closed_oversized; break;
    case CloseReason::incoming_eof: ++counters_.closed_incoming_eof; break;
    case CloseReason::outgoing_lost: ++counters_.closed_outgoing_lost; break;
    case CloseReason::tls_refused_incoming: ++counters_.tls_refused_incoming; break;
    case CloseReason::tls_refused_outgoing: ++counters_.tls_refused_outgoing; break;
  }
}

// --------------------------------------------------------------------------- outgoing

void PeerTransport::Impl::start_link(NodeIndex peer) {
  Link& link = *links_[peer];
  if (stopped_ || link.state != LinkState::idle) return;
  link.state = LinkState::connecting;
  link.backoff_ms = opt_.backoff_initial_ms;
  spawn(run_link(peer));
}

bool PeerTransport::Impl::send(NodeIndex to, std::string payload) {
  if (to >= peers_.size() || to == self_) {  // a caller bug; refuse rather than index out of range
    assert(false && "send to self or to an index out of range");
    ++counters_.dropped_sends;
    spdlog::error("peer_transport[{}]: peer {}: send refused: no such peer (cluster of {})", self_, to, peers_.size());
    return false;
  }
  Link& link = *links_[to];
  if (stopped_) {
    ++counters_.dropped_sends;
    return false;
  }
  if (payload.size() > opt_.frame_bytes_max) {
    ++counters_.dropped_sends;
    spdlog::warn("peer_transport[{}]: peer {} ({}): refusing to send {} bytes, over frame_bytes_max {}", self_, to,
                 peers_[to].to_string(), payload.size(), opt_.frame_bytes_max);
    return false;
  }
  if (link.state == LinkState::idle) start_link(to);
  if (link.state == LinkState::down) {
    ++counters_.dropped_sends;
    return false;
  }
  const size_t frame_bytes = kFrameHeaderBytes + payload.size();
  if (link.queued_bytes() + frame_bytes > opt_.send_queue_bytes_max) {
    ++counters_.dropped_sends;
    if (link.state == LinkState::up) {
      close_outgoing(to, link.conn, CloseReason::hung,
                     fmt::format("send queue would exceed {} bytes ({} queued)", opt_.send_queue_bytes_max, link.queued_bytes()));
    } else {
      spdlog::warn("peer_transport[{}]: peer {} ({}): send refused while connecting: queue would exceed {} bytes", self_, to,
                   peers_[to].to_string(), opt_.send_queue_bytes_max);
    }
    return false;
  }
  Codec codec = Codec::identity;
  for (Codec c : opt_.compression) {
    if ((link.peer_decodes & codec_bit(c)) != 0) {
      codec = c;
      break;
    }
  }
  if (append_frame(link.pending, payload, codec, opt_.compression_min_bytes) != Codec::identity) {
    ++counters_.frames_compressed_sent;
  }
  ++link.pending_frames;
  if (link.state == LinkState::up) kick_writer(to);
  return true;
}

// The life of the outgoing side to one peer: connect, serve, lose, back off, repeat.
awaitable<void> PeerTransport::Impl::run_link(NodeIndex peer) {
  auto keep = shared_from_this();
  Link& link = *links_[peer];
  while (!stopped_) {
    auto conn = std::make_shared<OutConn>(io_, opt_.tls_client ? opt_.tls_client() : nullptr);
    link.conn = conn;
    const error_code ec = co_await connect(peer, conn);
    if (stopped_) co_return;
    if (ec) {
      ++counters_.connect_failures;
      if (conn->tls_refused) ++counters_.tls_refused_outgoing;
      conn->closed = true;
      const bool announce = link.state != LinkState::down;
      const uint64_t dropped = drop_queue(link, *conn);
      link.state = LinkState::down;
      const auto level = announce ? spdlog::level::warn : spdlog::level::debug;
      spdlog::log(level, "peer_transport[{}]: peer {} ({}): connect failed: {}{}; {} queued messages dropped", self_, peer,
                  peers_[peer].to_string(), conn->tls_refused ? "TLS handshake: " : "", ec.message(), dropped);
      if (announce) handler_.on_peer_down(peer);
    } else {
      ++counters_.connects;
      co_await run_connection(peer, conn);
      if (stopped_) co_return;
      if (conn->announce_down) handler_.on_peer_down(peer);
      // Only a connection that lasted resets the backoff; one that is refused right after
      // connecting (e.g. wrong fingerprint) keeps backing off.
      if (conn->up_since != Clock::time_point() && Clock::now() - conn->up_since >= milliseconds(opt_.backoff_max_ms)) {
        link.backoff_ms = opt_.backoff_initial_ms;
      }
    }
    if (stopped_) co_return;
    error_code ignored;
    link.backoff_timer.expires_after(next_backoff(link));
    co_await link.backoff_timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

milliseconds PeerTransport::Impl::next_backoff(Link& link) {
  const uint32_t delay = link.backoff_ms;
  link.backoff_ms = std::min<uint64_t>(uint64_t{delay} * 2, opt_.backoff_max_ms);
  std::uniform_int_distribution<uint32_t> jitter(delay / 2, delay);
  return milliseconds(jitter(rng_));
}

awaitable<error_code> PeerTransport::Impl::connect(NodeIndex peer, std::shared_ptr<OutConn> conn) {
  // The name is resolved at every attempt, within the connect timeout, on the resolving thread;
  // its answer comes back through the mailbox and wakes this coroutine by cancelling `resolved.done`.
  struct Resolved {
    explicit Resolved(asio::io_context& io) : done(io, asio::steady_timer::time_point::max()) {}
    asio::steady_timer done;
    bool ready = false;
    error_code ec;
    tcp::resolver::results_type endpoints;
  };
  auto resolved = std::make_shared<Resolved>(io_);
  asio::steady_timer timer(io_);
  timer.expires_after(milliseconds(opt_.connect_timeout_ms));
  timer.async_wait([conn, resolved](const error_code& ec) {
    if (ec) return;
    conn->connect_timed_out = true;
    resolved->done.cancel();  // a late answer finds nobody waiting
    error_code ignored;
    conn->stream.socket().close(ignored);
  });
  // Named locals, no temporaries with destructors inside the co_await expressions: g++ 12 may
  // destroy those twice (a shared_ptr captured there was freed under a live connection).
  error_code ec;
  // `resolved` (a timer of io_) moves on with the answer, so this thread never lets it go.
  asio::post(resolving_, [resolved, host = peers_[peer].host, port = std::to_string(peers_[peer].port),
                          &mailbox = mailbox_, executor = resolving_.get_executor()]() mutable {
    tcp::resolver resolver(executor);
    error_code resolve_ec;
    auto endpoints = resolver.resolve(host, port, resolve_ec);
    mailbox.post([resolved = std::move(resolved), resolve_ec, endpoints] {
      resolved->ready = true;
      resolved->ec = resolve_ec;
      resolved->endpoints = endpoints;
      resolved->done.cancel();
    });
  });
  error_code woken;
  co_await resolved->done.async_wait(asio::redirect_error(asio::use_awaitable, woken));
  ec = resolved->ready ? resolved->ec : asio::error::operation_aborted;
  const tcp::resolver::results_type endpoints = resolved->endpoints;
  if (!ec) {
    // Each of the name's addresses in turn, unless the timeout closed the socket meanwhile.
    OutConn* attempt = conn.get();
    auto not_timed_out = [attempt](const error_code&, const tcp::endpoint&) { return !attempt->connect_timed_out; };
    co_await asio::async_connect(conn->stream.socket(), endpoints, not_timed_out,
                                 asio::redirect_error(asio::use_awaitable, ec));
  }
  // The chain is verified against the cluster's CA, not the name we dialled: any holder of a
  // certificate the cluster's CA signed is a member (the CA is the cluster's own), and members are
  // dialled by addresses that change (a pod restarted under a new IP, --advertise names), which a
  // certificate made once would not follow. A join, by contrast, verifies the name (net/http_client.h).
  if (!ec && !conn->connect_timed_out && conn->stream.is_tls()) {
    co_await conn->stream.async_handshake(asio::ssl::stream_base::client, asio::redirect_error(asio::use_awaitable, ec));
    conn->tls_refused = ec && !conn->connect_timed_out;
  }
  timer.cancel();
  if (conn->connect_timed_out) co_return asio::error::timed_out;
  co_return ec;
}

// Runs one established connection until it closes: hello, then writer and read watch.
awaitable<void> PeerTransport::Impl::run_connection(NodeIndex peer, std::shared_ptr<OutConn> conn) {
  Link& link = *links_[peer];
  error_code ec;
  conn->stream.socket().set_option(tcp::no_delay(true), ec);
  if (ec) spdlog::warn("peer_transport[{}]: peer {} ({}): cannot set TCP_NODELAY: {}", self_, peer, peers_[peer].to_string(), ec.message());

  const std::string hello = encode_frame(make_hello_payload(self_, fingerprint_));
  conn->writing = true;  // the stall watch covers the hello too
  conn->last_progress = Clock::now();
  arm_stall_watch(peer, conn);
  co_await asio::async_write(conn->stream, asio::buffer(hello), asio::redirect_error(asio::use_awaitable, ec));
  conn->writing = false;
  if (stopped_ || conn->closed) co_return;
  if (ec) {
    close_outgoing(peer, conn, CloseReason::outgoing_lost, "writing the hello failed: " + ec.message());
    co_return;
  }
  counters_.bytes_sent += hello.size();

  link.state = LinkState::up;
  conn->up_since = Clock::now();
  spdlog::info("peer_transport[{}]: peer {} ({}): connected", self_, peer, peers_[peer].to_string());
  handler_.on_peer_up(peer);
  if (stopped_ || conn->closed) co_return;
  spawn(watch_reads(peer, conn));
  kick_writer(peer);
  if (!conn->closed) co_await conn->closed_signal.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

void PeerTransport::Impl::kick_writer(NodeIndex peer) {
  Link& link = *links_[peer];
  const auto& conn = link.conn;
  if (link.state != LinkState::up || conn->closed || conn->writing || link.queued_bytes() == 0) return;
  conn->writing = true;
  conn->last_progress = Clock::now();  // idle time before this is not a stall
  arm_stall_watch(peer, conn);
  spawn(write_loop(peer, conn));
}

// Writes queued frames until the queue is empty. Everything queued while a write is in
// flight goes out together in the next write (batching).
awaitable<void> PeerTransport::Impl::write_loop(NodeIndex peer, std::shared_ptr<OutConn> conn) {
  auto keep = shared_from_this();
  Link& link = *links_[peer];
  for (;;) {
    if (link.inflight_offset == link.inflight.size()) {
      counters_.frames_sent += link.inflight_frames;
      link.inflight.clear();
      link.inflight_offset = 0;
      link.inflight_frames = 0;
      if (link.pending.empty()) break;
      std::swap(link.inflight, link.pending);  // the emptied buffer is reused for new sends
      std::swap(link.inflight_frames, link.pending_frames);
    }
    error_code ec;
    const size_t n = co_await conn->stream.async_write_some(
        asio::buffer(link.inflight.data() + link.inflight_offset, link.inflight.size() - link.inflight_offset),
        asio::redirect_error(asio::use_awaitable, ec));
    if (stopped_ || conn->closed) co_return;
    if (ec) {
      close_outgoing(peer, conn, CloseReason::outgoing_lost, "write failed: " + ec.message());
      co_return;
    }
    link.inflight_offset += n;
    counters_.bytes_sent += n;
    conn->last_progress = Clock::now();
  }
  conn->writing = false;
  if (link.pending.capacity() > kIdleBufferBytesMax) std::string().swap(link.pending);
  if (link.inflight.capacity() > kIdleBufferBytesMax) std::string().swap(link.inflight);
}

// One timer per connection, re-armed lazily: when it fires it checks how long ago the
// last write progress was, so progress costs no timer operations.
void PeerTransport::Impl::arm_stall_watch(NodeIndex peer, const std::shared_ptr<OutConn>& conn) {
  if (conn->stall_armed) return;
  conn->stall_armed = true;
  conn->stall_timer.expires_at(conn->last_progress + milliseconds(opt_.stall_timeout_ms));
  conn->stall_timer.async_wait([this, keep = shared_from_this(), peer, conn](const error_code& ec) {
    conn->stall_armed = false;
    if (ec || stopped_ || conn->closed || !conn->writing) return;
    if (Clock::now() - conn->last_progress < milliseconds(opt_.stall_timeout_ms)) {
      arm_stall_watch(peer, conn);
      return;
    }
    close_outgoing(peer, conn, CloseReason::hung,
                   fmt::format("no write progress for {} ms with {} bytes queued", opt_.stall_timeout_ms,
                               links_[peer]->queued_bytes()));
  });
}

// Peers never send on a connection we opened, so any read completion means it is gone.
awaitable<void> PeerTransport::Impl::watch_reads(NodeIndex peer, std::shared_ptr<OutConn> conn) {
  auto keep = shared_from_this();
  std::array<char, 64> buf;
  error_code ec;
  co_await conn->stream.async_read_some(asio::buffer(buf), asio::redirect_error(asio::use_awaitable, ec));
  if (stopped_ || conn->closed) co_return;
  if (ec.category() == asio::error::get_ssl_category()) {  // e.g. an alert: the peer refused our certificate
    close_outgoing(peer, conn, CloseReason::tls_refused_outgoing, "TLS: " + ec.message());
    co_return;
  }
  close_outgoing(peer, conn, CloseReason::outgoing_lost, ec ? read_ended(ec) : "peer sent bytes on our outgoing connection");
}

void PeerTransport::Impl::close_outgoing(NodeIndex peer, const std::shared_ptr<OutConn>& conn, CloseReason reason,
                                         const std::string& why) {
  if (conn->closed) return;
  conn->closed = true;
  count_close(reason);
  Link& link = *links_[peer];
  conn->announce_down = link.state != LinkState::down;
  link.state = LinkState::down;
  const uint64_t dropped = drop_queue(link, *conn);
  // A peer refusing our certificate does so at every attempt: that is logged as its incoming refusals are.
  const auto more =
      reason == CloseReason::tls_refused_outgoing ? refusal_log_.allow() : std::optional<std::string>(std::string());
  if (more) {
    spdlog::warn("peer_transport[{}]: peer {} ({}): closing outgoing connection: {}; {} queued messages dropped{}", self_,
                 peer, peers_[peer].to_string(), why, dropped, *more);
  }
  error_code ignored;
  conn->stream.socket().close(ignored);
  conn->stall_timer.cancel();
  conn->closed_signal.cancel();  // wakes run_connection, which reports the loss
}

// Drops every queued frame; returns how many. A write may still reference the in-flight
// buffer until its cancellation runs, so that buffer moves into the connection.
uint64_t PeerTransport::Impl::drop_queue(Link& link, OutConn& conn) {
  const uint64_t dropped = link.pending_frames + link.inflight_frames;
  counters_.dropped_queued += dropped;
  conn.retired = std::move(link.inflight);
  link.inflight = std::string();
  link.inflight_offset = 0;
  link.inflight_frames = 0;
  link.pending = std::string();
  link.pending_frames = 0;
  return dropped;
}

// --------------------------------------------------------------------------- stop

void PeerTransport::Impl::stop() {
  if (stopped_) return;
  stopped_ = true;
  error_code ignored;
  if (acceptor_) acceptor_->close(ignored);
  for (size_t i = 0; i < links_.size(); ++i) {
    Link& link = *links_[i];
    link.backoff_timer.cancel();
    if (!link.conn) continue;
    drop_queue(link, *link.conn);
    link.conn->closed = true;
    link.conn->stream.socket().close(ignored);
    link.conn->stall_timer.cancel();
    link.conn->closed_signal.cancel();
  }
  for (auto& [id, c] : incoming_) {
    c->closed = true;
    c->stream.socket().close(ignored);
    c->handshake_timer.cancel();
  }
  incoming_.clear();
  spdlog::info("peer_transport[{}]: stopped", self_);
}

// --------------------------------------------------------------------------- facade

NodeIndex PeerTransport::add_peer(PeerAddress address) { return impl_->add_peer(std::move(address)); }

const PeerAddress& PeerTransport::address(NodeIndex peer) const { return impl_->address(peer); }

void PeerTransport::set_address(NodeIndex peer, PeerAddress address) { impl_->set_address(peer, std::move(address)); }

PeerTransport::PeerTransport(asio::io_context& io, NodeIndex self, uint64_t cluster_fingerprint, std::vector<PeerAddress> peers,
                             Handler& handler, PeerTransportOptions options)
    : impl_(std::make_shared<Impl>(io, self, cluster_fingerprint, std::move(peers), handler, options)) {}

PeerTransport::~PeerTransport() { impl_->stop(); }

Status PeerTransport::listen(const tcp::endpoint& endpoint) { return impl_->listen(endpoint); }

void PeerTransport::connect_all() {
  for (NodeIndex i = 0; i < impl_->peer_count(); ++i) {
    if (i != impl_->self()) impl_->start_link(i);
  }
}

bool PeerTransport::send(NodeIndex to, std::string payload) { return impl_->send(to, std::move(payload)); }

bool PeerTransport::is_up(NodeIndex peer) const { return impl_->is_up(peer); }

CodecSet PeerTransport::decodes() const { return impl_->decodes(); }

void PeerTransport::set_peer_decodes(NodeIndex peer, CodecSet codecs) { impl_->set_peer_decodes(peer, codecs); }

PeerTransport::Counters PeerTransport::counters() const { return impl_->counters(); }

void PeerTransport::stop() { impl_->stop(); }

}  // namespace md::net
