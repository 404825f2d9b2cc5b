#include "net/resp_server.h"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "net/connection_set.h"
#include "net/tcp_listen.h"
#include "net/tls_stream.h"

namespace md::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class RespServer::Impl : public std::enable_shared_from_this<Impl> {
 public:
  class Connection;

  Impl(asio::io_context& io, const std::vector<asio::io_context*>& contexts, RespServerOptions options,
       SubmitFn submit, AuthenticateFn authenticate, resp::InfoFn info)
      : acceptor_(io),
        connections_(contexts.empty() ? std::vector{&io} : contexts),
        options_(options),
        submit_(std::move(submit)),
        authenticate_(std::move(authenticate)),
        node_info_(std::move(info)) {
    info_ = [this] {
      resp::NodeInfo node = node_info_();
      node.connected_clients = counters_.connections_open;
      node.port = port_;
      return node;
    };
  }

  Status listen(const tcp::endpoint& endpoint);

  void stop() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  // Closes every connection (the server is going away with its io_context).
  void close_all();

  uint16_t port() const { return port_; }

  // Counters, as every thread that serves connections counts them.
  struct LiveCounters {
    std::atomic<uint64_t> connections_accepted = 0, connections_open = 0, commands = 0, error_replies = 0,
                          protocol_errors = 0, closed_timeout = 0, commands_in_flight = 0, tls_handshakes_failed = 0;
    Counters snapshot() const {
      return Counters{connections_accepted, connections_open, commands,           error_replies,
                      protocol_errors,      closed_timeout,   commands_in_flight, tls_handshakes_failed};
    }
  };
  LiveCounters counters_;

 private:
  friend class Connection;

  tcp::acceptor acceptor_;
  ConnectionSet<Connection> connections_;
  RespServerOptions options_;
  SubmitFn submit_;
  AuthenticateFn authenticate_;
  resp::InfoFn node_info_;
  resp::InfoFn info_;  // node_info_ with this server's figures
  uint16_t port_ = 0;
  uint64_t next_client_id_ = 1;
};

class RespServer::Impl::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Impl> server, tcp::socket socket, std::shared_ptr<TlsContext> tls, uint64_t id,
             Mailbox& mailbox)
      : server_(std::move(server)), stream_(std::move(socket), std::move(tls)), mailbox_(mailbox),
        parser_(server_->options_.parser) {
    session_.id = id;
    boost::system::error_code ec;
    auto peer = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      session_.address = peer.address().to_string();
      session_.peer = session_.address + ":" + std::to_string(peer.port());
    }
    stream_.socket().set_option(tcp::no_delay(true), ec);  // replies go out at once, as Redis sends them
  }

  void start() {
    if (!stream_.is_tls()) return read();
    partial_since_ = Clock::now();  // the sweep gives the handshake read_timeout_ms, as a half-sent command
    stream_.async_handshake(asio::ssl::stream_base::server, [self = shared_from_this()](boost::system::error_code ec) {
      if (self->closed_) return;
      if (ec) {
        ++self->server_->counters_.tls_handshakes_failed;
        spdlog::debug("RESP client {}: TLS handshake failed: {}", self->session_.peer, ec.message());
        return self->close();
      }
      self->partial_since_.reset();
      self->last_activity_ = Clock::now();
      self->read();
    });
  }

  // The sweep: closes a connection past one of its timeouts.
  void check(Clock::time_point now) {
    if (closed_) return;
    const auto& o = server_->options_;
    auto over = [&](Clock::time_point since, uint32_t ms) { return now - since > std::chrono::milliseconds(ms); };
    const bool idle = !writing_ && slots_.empty() && !partial_since_;
    if ((writing_ && over(write_since_, o.write_timeout_ms)) || (partial_since_ && over(*partial_since_, o.read_timeout_ms)) ||
        (idle && over(last_activity_, o.idle_timeout_ms))) {
      ++server_->counters_.closed_timeout;
      close();
    }
  }

  void close() {
    if (closed_) return;
    closed_ = true;
    server_->counters_.commands_in_flight -= waiting_.size();  // never started: nothing will answer them
    slots_.clear();
    waiting_.clear();
    boost::system::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
    --server_->counters_.connections_open;
    server_->connections_.erase(shared_from_this());
  }

 private:
  struct Slot {
    bool ready = false;
    bool close = false;  // the connection closes once this reply is written
    std::string reply;
    resp::CommandKeys keys;  // held from the command's start to its reply
  };
  // A command read but not started: one before it holds one of its keys.
  struct Waiting {
    uint64_t seq = 0;
    std::vector<std::string> command;
    resp::CommandKeys keys;
  };

  bool paused() const {
    return slots_.size() >= server_->options_.commands_in_flight_max || output_.size() > kOutputPauseBytes;
  }

  void read() {
    if (closed_ || reading_ || closing_ || paused()) return;
    reading_ = true;
    stream_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      self->reading_ = false;
      if (self->closed_) return;
      self->last_activity_ = Clock::now();
      if (ec) {
        // The client closed its side (or the connection broke): answer what it sent whole, then
        // close; a command it cut in half is dropped.
        self->closing_ = true;
        self->partial_since_.reset();
        return self->flush();
      }
      self->input_.append(self->chunk_.data(), n);
      self->process();
      self->read();
    });
  }

  // Parses and starts every command buffered, as long as there is room for them.
  void process() {
    bool parsed_one = false;
    while (!closing_ && !paused()) {
      std::vector<std::string> command;
      auto r = parser_.parse(std::string_view(input_).substr(input_at_), &command);
      input_at_ += r.consumed;
      if (r.kind == resp::CommandParser::Kind::need_more) break;
      if (r.kind == resp::CommandParser::Kind::error) {
        ++server_->counters_.protocol_errors;
        spdlog::debug("RESP client {}: protocol error: {}", session_.peer, r.error);
        slots_.push_back(Slot{true, true, resp::protocol_error_reply(r.error), {}});
        closing_ = true;
        break;
      }
      parsed_one = true;
      start_command(std::move(command));
    }
    if (input_at_ == input_.size()) {
      input_.clear();
      input_at_ = 0;
    } else if (input_at_ > kCompactBytes) {
      input_.erase(0, input_at_);
      input_at_ = 0;
    }
    // A half-received command must arrive whole within the read timeout; one that is completed
    // restarts the clock, so a steady pipeline is never taken for a slow client.
    // (Whole commands left unread while the connection waits for room are not the client's delay.)
    const bool partial = !parser_.idle() || (input_at_ < input_.size() && !paused());
    if (!partial || parsed_one) partial_since_.reset();
    if (partial && !partial_since_) partial_since_ = Clock::now();
    flush();
  }

  // Gives the command its reply slot; it starts once no command before it holds one of its keys.
  void start_command(std::vector<std::string> command) {
    ++server_->counters_.commands;
    ++server_->counters_.commands_in_flight;
    const uint64_t seq = first_seq_ + slots_.size();
    slots_.emplace_back();
    if (command.size() == 1 && boost::iequals(command[0], "QUIT")) closing_ = true;  // read no further
    auto keys = resp::command_keys(command);
    waiting_.push_back(Waiting{seq, std::move(command), std::move(keys)});
    start_waiting();
  }

  // Starts the waiting commands, in order, while the first of them is free to start.
  void start_waiting() {
    while (!waiting_.empty() && !closed_) {
      const Waiting& next = waiting_.front();
      const bool free = !all_keys_held_ && (next.keys.all ? keys_held_.empty()
                                                          : std::none_of(next.keys.keys.begin(), next.keys.keys.end(),
                                                                         [&](const auto& k) { return keys_held_.contains(k); }));
      if (!free) return;
      Waiting w = std::move(waiting_.front());
      waiting_.pop_front();
      for (const auto& k : w.keys.keys) ++keys_held_[k];
      all_keys_held_ = w.keys.all;
      slots_[w.seq - first_seq_].keys = std::move(w.keys);
      run_step(w.seq, resp::execute(w.command, session_, server_->options_.commands, server_->info_));
    }
  }

  void release_keys(const resp::CommandKeys& keys) {
    if (keys.all) all_keys_held_ = false;
    for (const auto& k : keys.keys) {
      if (auto it = keys_held_.find(k); it != keys_held_.end() && --it->second == 0) keys_held_.erase(it);
    }
  }

  // Submits a step's requests; when the last answer arrives, runs what follows.
  void run_step(uint64_t seq, resp::Step step) {
    if (closed_) return complete(seq, {}, false);  // the client went away: start nothing more
    if (!step.authenticate && step.requests.empty()) return complete(seq, std::move(step.reply), step.close);
    // What the node's thread holds of this connection while it works (here(), below).
    auto self = mailbox_.released_here(shared_from_this());
    if (step.authenticate) {
      return server_->authenticate_(Caller{Protocol::resp, session_.address, std::move(*step.authenticate)},
                                    here([self, seq, then = std::move(step.then)](core::ClientResponse r) {
                                      std::vector<core::ClientResponse> answers;
                                      answers.push_back(std::move(r));
                                      self->run_step(seq, then(std::move(answers)));
                                    }));
    }
    struct Gather {
      std::vector<core::ClientResponse> answers;
      size_t remaining = 0;
      std::function<resp::Step(std::vector<core::ClientResponse>)> then;
    };
    auto gather = std::make_shared<Gather>();
    gather->answers.resize(step.requests.size());
    gather->remaining = step.requests.size();
    gather->then = std::move(step.then);
    for (size_t i = 0; i < step.requests.size(); ++i) {
      server_->submit_(Caller{Protocol::resp, session_.address, session_.credentials}, std::move(step.requests[i]),
                       here([self, gather, i, seq](core::ClientResponse response) {
                         gather->answers[i] = std::move(response);
                         if (--gather->remaining == 0) self->run_step(seq, gather->then(std::move(gather->answers)));
                       }));
    }
  }

  // An answer may come on another thread (the node's): `then` runs on this connection's. (It holds
  // this connection only through mailbox_.released_here(), so the node's thread never lets it go.)
  ClientDone here(ClientDone then) {
    return [&mailbox = mailbox_, then = std::move(then)](core::ClientResponse r) {
      mailbox.dispatch([then, r = std::move(r)]() mutable { then(std::move(r)); });
    };
  }

  void complete(uint64_t seq, std::string reply, bool close_after) {
    --server_->counters_.commands_in_flight;
    if (!reply.empty() && reply[0] == '-') ++server_->counters_.error_replies;
    if (closed_) return;  // the client went away: nobody to answer
    if (close_after) closing_ = true;
    Slot& slot = slots_[seq - first_seq_];
    release_keys(slot.keys);
    slot = Slot{true, close_after, std::move(reply), {}};
    start_waiting();
    flush();
  }

  // Moves the answered replies at the front, in command order, to the socket.
  void flush() {
    if (closed_) return;
    while (!slots_.empty() && slots_.front().ready && !close_when_written_) {
      output_ += slots_.front().reply;
      close_when_written_ = close_when_written_ || slots_.front().close;
      slots_.pop_front();
      ++first_seq_;
    }
    if (writing_) return;
    if (output_.empty()) {
      if (close_when_written_ || (closing_ && slots_.empty())) close();
      return;
    }
    writing_ = true;
    write_since_ = Clock::now();
    pending_write_.swap(output_);
    asio::async_write(stream_, asio::buffer(pending_write_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      self->writing_ = false;
      self->pending_write_.clear();
      if (self->closed_) return;
      if (ec) return self->close();
      self->last_activity_ = Clock::now();
      self->flush();
      self->process();  // commands left waiting for room
      self->read();
    });
  }

  static constexpr size_t kOutputPauseBytes = 4 << 20;  // replies waiting for the socket: stop reading
  static constexpr size_t kCompactBytes = 64 << 10;

  std::shared_ptr<Impl> server_;
  PlainOrTlsStream stream_;
  Mailbox& mailbox_;  // its context's: answers made on other threads come back through it
  resp::CommandParser parser_;
  resp::Session session_;
  std::array<char, 16 << 10> chunk_{};
  std::string input_;  // received; parsed up to input_at_
  size_t input_at_ = 0;
  std::deque<Slot> slots_;  // a reply per command read, in command order
  std::deque<Waiting> waiting_;
  std::unordered_map<std::string, uint32_t> keys_held_;  // by commands started and unanswered
  bool all_keys_held_ = false;                           // a SCAN is running
  uint64_t first_seq_ = 0;  // the sequence number of slots_.front()
  std::string output_;         // replies ready to write
  std::string pending_write_;  // replies being written
  bool reading_ = false, writing_ = false;
  bool closing_ = false;             // run no more commands: close once the replies are written
  bool close_when_written_ = false;  // a QUIT or a protocol error's reply is in the output
  bool closed_ = false;
  Clock::time_point last_activity_ = Clock::now(), write_since_;
  std::optional<Clock::time_point> partial_since_;  // a command has been arriving since then
};

Status RespServer::Impl::listen(const tcp::endpoint& endpoint) {
  if (auto s = listen_on(acceptor_, endpoint, "RESP"); !s.is_ok()) return s;
  port_ = acceptor_.local_endpoint().port();
  auto self = shared_from_this();
  connections_.accept(acceptor_, "RESP", options_.connections_max, counters_, self, [self] {
    return [self, tls = self->options_.tls ? self->options_.tls() : nullptr, id = self->next_client_id_++](
               tcp::socket socket, Mailbox& mailbox) {
      return std::make_shared<Connection>(self, std::move(socket), tls, id, mailbox);
    };
  });
  const auto& o = options_;
  connections_.sweep(std::min({o.idle_timeout_ms, o.read_timeout_ms, o.write_timeout_ms}), self);
  return Status::ok();
}

void RespServer::Impl::close_all() {
  stop();
  connections_.close_all();
}

RespServer::RespServer(asio::io_context& io, RespServerOptions options, SubmitFn submit, AuthenticateFn authenticate,
                       resp::InfoFn info, const std::vector<asio::io_context*>& connection_contexts)
    : impl_(std::make_shared<Impl>(io, connection_contexts, options, std::move(submit), std::move(authenticate),
                                   std::move(info))) {}
RespServer::~RespServer() { impl_->close_all(); }
Status RespServer::listen(const tcp::endpoint& endpoint) { return impl_->listen(endpoint); }
uint16_t RespServer::port() const { return impl_->port(); }
void RespServer::stop() { impl_->stop(); }
RespServer::Counters RespServer::counters() const { return impl_->counters_.snapshot(); }

}  // namespace md::net
