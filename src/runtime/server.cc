#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "runtime/server.h"

#include <boost/asio.hpp>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <thread>

#include "core/node.h"
#include "net/client_call.h"
#include "net/grpc_server.h"
#include "net/http_api.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/log_limiter.h"
#include "net/mailbox.h"
#include "net/peer_codec.h"
#include "net/peer_transport.h"
#include "net/resp_server.h"
#include "node/effect_runner.h"
#include "runtime/actor_epoch.h"
#include "runtime/durable_file.h"
#include "runtime/durable_writer.h"
#include "runtime/embedded_files.h"
#include "runtime/gate.h"
#include "runtime/io_threads.h"
#include "runtime/node_metrics.h"

namespace md::runtime {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class Server::Impl final : public net::PeerTransport::Handler, public node::Host {
 public:
  explicit Impl(NodeConfig config) : config_(std::move(config)) {}

  Status start();
  void run() {
    io_.run();
    io_threads_.stop();  // the node stopped: its connections on the other threads are served no more
  }
  void reload_tls() {
    mailbox_.post([this] {
      if (!tls_on(config_)) return spdlog::info("SIGHUP: no TLS files to read again (no --tls-cert)");
      // Checked (key, certificate and CA together) by load_tls before gRPC reads them too.
      Status loaded = load_tls();
      if (loaded.is_ok() && grpc_) loaded = grpc_->reload_tls();
      if (!loaded.is_ok()) {
        return spdlog::error("SIGHUP: the TLS files did not load, so the ones loaded before stay in use: {}",
                             loaded.message());
      }
      spdlog::info("SIGHUP: TLS certificate {} loaded again; new connections on every port use it",
                   config_.tls.certificate);
    });
  }
  // A graceful stop: no new connections or requests; those in flight are answered (each ends by
  // its deadline), then the peer connections close, which tells the peers at once.
  void stop() {
    mailbox_.post([this] {
      if (stopping_) return;
      stopping_ = true;
      stop_deadline_ms_ = now_ms() + config_.core.request_timeout_ms + config_.core.read_repair_window_ms;
      spdlog::info("stopping: finishing {} requests in flight", requests_in_flight());
      if (http_) http_->stop();
      if (resp_) resp_->stop();
      // On a thread of its own: its calls in flight are answered on this one until the deadline.
      if (grpc_) grpc_->begin_shutdown(started_ + std::chrono::milliseconds(stop_deadline_ms_));
    });
  }
  ~Impl() override {
    io_threads_.stop();  // before the servers, whose connections they serve, go
    writer_.reset();  // writes what was submitted (its completions are not run: nothing waits)
    Status synced = engine_ ? engine_->sync() : Status::ok();
    // Into the table files: a restart replays no log, and the data dir shows what the data costs.
    if (synced.is_ok() && engine_) {
      if (auto flushed = engine_->flush(); !flushed.is_ok()) spdlog::warn("the flush at stop failed: {}", flushed.message());
    }
    if (!synced.is_ok()) {
      spdlog::error("the last sync failed: {}; the RUNNING marker stays, so the next start treats this stop as a crash",
                    synced.message());
    } else if (running_marked_) {
      epoch_->end();  // a clean stop: nothing acknowledged was lost
    }
  }

  void on_peer_message(net::NodeIndex from, std::string payload) override {
    uint32_t decodes = 0;
    auto message = net::decode_peer_message(payload, &decodes);
    if (!message.is_ok()) {
      ++bad_peer_messages_;
      spdlog::warn("dropping a message from {}: {}", member(from), message.status().message());
      return;
    }
    metrics_.peer_message_received(message->index(), payload.size());
    // What the peer decodes is the transport's business (frame compression); the core sees the Hello.
    if (std::holds_alternative<core::Hello>(*message)) peers_->set_peer_decodes(from, decodes);
    runner_->peer_message(from, std::move(message).value());
  }
  void on_peer_up(net::NodeIndex peer) override {
    spdlog::info("peer {} is up", member(peer));
    runner_->peer_up(peer);
  }
  void on_peer_down(net::NodeIndex peer) override {
    spdlog::warn("peer {} is down", member(peer));
    runner_->peer_down(peer);
  }

  // node::Host: what the effect runner asks of this process.
  uint64_t now_ms() const override {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count());
  }
  void send(core::MemberIndex to, const core::PeerMessage& message) override {
    std::string bytes = net::encode_peer_message(message, peers_->decodes());
    metrics_.peer_message_sent(message.index(), bytes.size());
    if (!peers_->send(to, std::move(bytes))) {
      // Tell the core after this pass, never from inside it.
      asio::post(io_, [this, to] {
        if (!peers_->is_up(to)) on_peer_down(to);  // unless it came back meanwhile: no stale "down"
      });
    }
  }
  void reply(core::RequestId client, core::ClientResponse response) override {
    auto it = pending_.find(client);
    if (it == pending_.end()) return;
    auto call = std::move(it->second);
    pending_.erase(it);
    metrics_.request_done(call.protocol, call.op, outcome_of(call.op, response), seconds_since(call.received));
    if (call.op == core::Op::get && response.outcome == core::Outcome::ok) metrics_.siblings_returned(response.siblings.size());
    call.done(std::move(response));
  }
  Status keep_cluster_state(const core::ClusterState& state) override {
    auto status = save_cluster_state(state);
    update_peers();
    return status;
  }
  Status keep_dot_floor(uint64_t floor) override {
    return write_file_durably(dot_floor_file(), std::to_string(floor) + "\n");
  }
  void warn(const std::string& message) override { spdlog::warn("{}", message); }
  void storage_failed(std::string_view what, const Status& status) override {
    spdlog::error("{} failed: {}", what, status.message());
  }

 private:
  // A client request the core is working on, from any front end.
  struct PendingCall {
    net::ClientDone done;
    net::Protocol protocol = net::Protocol::http;
    core::Op op = core::Op::get;
    std::chrono::steady_clock::time_point received;  // the request read whole
  };
  static double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }

  // Where member m is now (its name in the ring is the address it joined with).
  const std::string& member(net::NodeIndex m) const {
    return core::current_address(node_->cluster_state(), node_->ring().members()[m]);
  }
  // Member m's node id: as its hello said, else as announced; empty if neither is known yet.
  std::string member_node_id(core::MemberIndex m) const {
    if (!node_->peer_node_id(m).empty()) return node_->peer_node_id(m);
    auto announced = node_->cluster_state().node_ids.find(node_->ring().members()[m]);
    return announced == node_->cluster_state().node_ids.end() ? std::string() : announced->second;
  }
  std::string cluster_file() const { return config_.data_dir + "/CLUSTER"; }
  std::string dot_floor_file() const { return config_.data_dir + "/DOT_FLOOR"; }  // core::SaveDotFloor
  Status restore_dot_floor();
  Result<core::ClusterState> load_cluster_state(const std::string& node_id, bool* kept);
  Status check_flags_against(const core::ClusterState& kept) const;
  Result<core::ClusterState> found_cluster();
  Result<core::ClusterState> join(const std::string& node_id);
  Status save_cluster_state(const core::ClusterState& state);
  Result<asio::ip::address> resolve_listen_host();
  Status load_tls();
  void update_peers();
  void handle_http(net::HttpRequest&& request, net::Responder respond);
  // Client requests not answered yet, at least: HTTP requests being read, worked on or written, RESP
  // commands, or requests of any front end that the core is working on (an HTTP one counts in both); 0 once
  // every one is answered.
  size_t requests_in_flight() const {
    // A RESP command counts from its reading to its reply (it may wait for an earlier one of its key).
    return std::max<size_t>((http_ ? http_->counters().requests_in_flight : 0) +
                                (resp_ ? resp_->counters().commands_in_flight : 0),
                            pending_.size());
  }
  // Every front end's way into the core (net/client_call.h): through the gate, then run_request.
  void submit(const net::Caller& caller, core::ClientRequest request, net::ClientDone done,
              std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now());
  void run_request(net::Protocol protocol, core::ClientRequest request, net::ClientDone done,
                   std::chrono::steady_clock::time_point received);
  // submit(), as the RESP and gRPC servers take it: called on any thread, it runs on this one
  // (RESP's connections are on the I/O threads with --threads 2 or more; gRPC posts here itself).
  net::SubmitFn gateway() {
    return [this](const net::Caller& caller, core::ClientRequest request, net::ClientDone done) {
      mailbox_.dispatch([this, caller, request = std::move(request), done = std::move(done)]() mutable {
        submit(caller, std::move(request), std::move(done));
      });
    };
  }
  // The gate's verdict as a front end's answer (Outcome::ok when it let the caller through).
  static core::ClientResponse refusal(const Gate::Verdict& verdict) {
    core::ClientResponse response;
    response.outcome = verdict.outcome;
    response.message = verdict.message;
    return response;
  }
  void handle_user_admin(const net::UserAdmin& admin, net::Responder respond);
  Result<std::string> read_admin_password() const;
  Status create_first_admin(const std::string& password);
  void arm_tick();
  void finish_stop();
  void leave_once_departed();
  void handle_cluster_admin(const net::ClusterAdmin& admin, net::Responder respond);
  // The member named by `address`: the name it joined under, or the one now at that address.
  std::string member_at(const std::string& address) const;
  void log_suspicions();
  Status start_resp(const asio::ip::address& listen_ip);
  // INFO's and HELLO's figures that change, which RESP connections on other threads read: taken on
  // this thread at the start and then every kRespInfoRefreshMs.
  void refresh_resp_info();
  static constexpr uint64_t kRespInfoRefreshMs = 1000;

  std::string info_page(net::InfoPage page) const;
  std::string metrics_page() const;

  NodeConfig config_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  NodeMetrics metrics_;  // before the writer, which records into it
  // Before io_: a handler queued there may hold an HTTP connection of one of these threads' contexts.
  IoThreads io_threads_{config_.threads - 1};
  // Its locking off: no other thread touches it, they post to its mailbox (net/mailbox.h), made
  // here before it runs.
  asio::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  net::Mailbox& mailbox_ = net::Mailbox::of(io_);
  asio::steady_timer tick_{io_};
  std::unique_ptr<storage::Engine> engine_;
  std::unique_ptr<DurableWriter> writer_;  // fsynced writes (--sync always); others run inline
  std::optional<ActorEpoch> epoch_;         // kept in the data dir once the node holds its ports
  bool running_marked_ = false;              // this run left its RUNNING marker (actor_epoch.h)
  std::unique_ptr<core::Node> node_;
  std::unique_ptr<node::EffectRunner> runner_;
  std::unique_ptr<Gate> gate_;  // every front end's requests pass it (--security on)
  std::unique_ptr<net::HttpServer> http_;
  std::unique_ptr<net::RespServer> resp_;  // nullptr with --resp-port 0
  // refresh_resp_info(): each figure on its own, so that a connection's thread reads them without a lock.
  std::atomic<uint64_t> resp_members_ = 0, resp_keys_estimate_ = 0;
  uint64_t resp_info_refreshed_ms_ = 0;
  // --tls-*: what each port serves with and this node connects with. load_tls() replaces them all
  // together (reload_tls), so later connections take the new files and open ones keep theirs.
  struct TlsContexts {
    std::shared_ptr<net::TlsContext> http;         // asks for a client certificate: a join needs one
    std::shared_ptr<net::TlsContext> resp;         // asks for none: redis-cli has none
    std::shared_ptr<net::TlsContext> peer_server;  // requires one the CA signed: mutual TLS
    std::shared_ptr<net::TlsContext> client;       // presents this node's: to peers and in a join
  };
  TlsContexts tls_;
  std::unique_ptr<net::GrpcServer> grpc_;  // nullptr with --grpc-port 0; destroyed before io_
  std::unique_ptr<net::PeerTransport> peers_;
  std::vector<uint16_t> peer_ports_;  // per member, as the transport knows them
  std::map<core::RequestId, PendingCall> pending_;
  core::RequestId next_client_id_ = 1;
  uint64_t bad_peer_messages_ = 0;
  net::LogLimiter join_refusal_log_{std::chrono::seconds(10)};
  std::vector<bool> suspected_;  // per member, as last logged
  bool stopping_ = false;         // stop() was called: not ready, refusing new requests
  uint64_t stop_deadline_ms_ = 0;  // requests still in flight then are abandoned
};

Result<asio::ip::address> Server::Impl::resolve_listen_host() {
  const std::string& host = listen_host(config_);
  boost::system::error_code ec;
  if (auto ip = asio::ip::make_address(host, ec); !ec) return ip;
  tcp::resolver resolver(io_);
  auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    return Status::invalid_argument((config_.listen.empty() ? "--host " : "--listen ") + host +
                                    " is neither an IP address nor a name that resolves here: " + ec.message());
  }
  return results.begin()->endpoint().address();
}

// Every port's server context and this node's client context, from the --tls-* files: all of them
// or, when one does not load, none (the ones loaded before stay).
Status Server::Impl::load_tls() {
  using net::ClientCertificate;
  TlsContexts loaded;
  for (auto [slot, clients] : {std::pair{&loaded.http, ClientCertificate::requested},
                               std::pair{&loaded.resp, ClientCertificate::not_asked},
                               std::pair{&loaded.peer_server, ClientCertificate::required}}) {
    auto server = net::make_server_context(config_.tls, clients);
    if (!server.is_ok()) return server.status();
    *slot = std::move(server).value();
  }
  auto client = net::make_client_context(config_.tls);
  if (!client.is_ok()) return client.status();
  loaded.client = std::move(client).value();
  tls_ = std::move(loaded);
  return Status::ok();
}

// The cluster this node serves in: the one kept in its data dir (*kept), or the one it joins
// (--join), or a new one founded by --nodes; start() keeps a new one once the node serves.
Result<core::ClusterState> Server::Impl::load_cluster_state(const std::string& node_id, bool* kept) {
  std::ifstream in(cluster_file(), std::ios::binary);
  *kept = static_cast<bool>(in);
  if (in) {
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto state = net::decode_cluster_state(bytes);
    if (!state.is_ok()) return Status::corruption(cluster_file() + " is damaged: " + state.status().message());
    if (!config_.join.empty()) spdlog::info("already a member: --join {} is not needed and ignored", config_.join);
    return state;
  }
  return config_.join.empty() ? found_cluster() : join(node_id);
}

// Flags that describe a cluster (--partitions, --nodes) are read on a data dir's first start only;
// given again, they must describe the cluster kept there, or the node would quietly run by another.
Status Server::Impl::check_flags_against(const core::ClusterState& kept) const {
  const auto q = static_cast<uint32_t>(kept.owners.size());
  const std::string way_out = "; drop the flag (membership is kept in " + cluster_file() +
                              " and spread by gossip) or start with a new data dir to found another cluster";
  if (config_.partitions_given && config_.partitions != q) {
    return Status::invalid_argument("--partitions " + std::to_string(config_.partitions) +
                                    " disagrees with the cluster kept in " + cluster_file() + " (Q=" +
                                    std::to_string(q) + ")" + way_out);
  }
  if (config_.nodes_given) {  // the founders, as at the first start, or every member as it is now
    auto given = config_.nodes;
    std::sort(given.begin(), given.end());
    auto ring = core::Ring::create(given, q);
    std::vector<std::string> now;
    for (const auto& name : kept.members) now.push_back(core::current_address(kept, name));
    std::sort(now.begin(), now.end());
    if ((!ring.is_ok() || core::founding_state(*ring).cluster_id != kept.cluster_id) && given != now) {
      return Status::invalid_argument("--nodes names neither the founders nor the members of the cluster kept in " +
                                      cluster_file() + way_out);
    }
  }
  return Status::ok();
}

Result<core::ClusterState> Server::Impl::found_cluster() {
  auto members = founding_members(config_);
  if (!members.is_ok()) return members.status();
  auto ring = core::Ring::create(std::move(members).value(), config_.partitions);
  if (!ring.is_ok()) return ring.status();
  return core::founding_state(*ring);
}

// Asks the node at --join to take us in, again every 200 ms, until its ring has us (its claimant
// admitted us and gossip brought the new ring back to it).
Result<core::ClusterState> Server::Impl::join(const std::string& node_id) {
  auto seed = peer_endpoint(config_.join, 0);
  if (!seed.is_ok()) return Status::invalid_argument("--join: " + seed.status().message());
  const std::string self = self_address(config_);
  std::string body = "{\"address\":\"" + self + "\",\"node_id\":\"" + node_id + "\"" +
                     (config_.core.zone.empty() ? "" : ",\"zone\":\"" + config_.core.zone + "\"") + "}";
  net::HttpClient client(seed->first, seed->second, 2000, tls_.client);
  constexpr auto kGiveUpAfter = std::chrono::seconds(60);
  auto started = std::chrono::steady_clock::now();
  spdlog::info("joining the cluster of {} as {} ({})", config_.join, self, node_id);
  std::string last_problem;
  for (int attempt = 1; std::chrono::steady_clock::now() - started < kGiveUpAfter; ++attempt) {
    auto response = client.request(boost::beast::http::verb::post, "/cluster/join", body);
    if (!response.is_ok() || response->status == 503) {
      last_problem = response.is_ok() ? response->body : response.status().message();
      spdlog::warn("--join {}: attempt {} failed: {}; trying again in 200 ms for up to 60 s", config_.join, attempt,
                   last_problem);
    } else if (response->status != 200) {
      return Status::invalid_argument("--join " + config_.join + " refused us: " + response->body);
    } else if (auto state = net::decode_cluster_state(response->body); !state.is_ok()) {
      return Status::corruption("--join " + config_.join + " answered a bad cluster state: " + state.status().message());
    } else if (std::find(state->members.begin(), state->members.end(), self) != state->members.end()) {
      spdlog::info("joined: ring version {}, {} members", state->ring_version, state->members.size());
      return state;
    } else {
      last_problem = "not admitted yet (ring version " + std::to_string(state->ring_version) + ", claimant " +
                     state->members[core::claimant(*state)] + ")";
      spdlog::info("--join {}: attempt {}: {}", config_.join, attempt, last_problem);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return Status::unavailable("--join " + config_.join + ": not admitted within 60 s (" + last_problem +
                             "); the claimant must be up to admit nodes");
}

Status Server::Impl::save_cluster_state(const core::ClusterState& state) {
  return write_file_durably(cluster_file(), net::encode_cluster_state(state));
}

// Members a new ring added become peers (the transport numbers them as the ring does), and
// members that moved are reached at their new address from the next connect on.
void Server::Impl::update_peers() {
  const auto& state = node_->cluster_state();
  const auto& members = node_->ring().members();
  for (size_t m = 0; m < members.size(); ++m) {
    auto endpoint = peer_endpoint(core::current_address(state, members[m]), config_.peer_port_offset);
    if (!endpoint.is_ok()) {  // its index must still be taken, so later members keep theirs
      spdlog::error("member {}: {}; it cannot be reached", members[m], endpoint.status().message());
      endpoint = std::make_pair(std::string(), uint16_t{0});
    }
    net::PeerAddress address{endpoint->first, endpoint->second};
    if (m == peer_ports_.size()) {
      peers_->add_peer(std::move(address));
      peer_ports_.push_back(endpoint->second);
      spdlog::info("member {} joined the ring", members[m]);
    } else if (peers_->address(static_cast<net::NodeIndex>(m)) != address) {
      spdlog::info("member {} is now at {}", members[m], current_address(state, members[m]));
      peers_->set_address(static_cast<net::NodeIndex>(m), std::move(address));
      peer_ports_[m] = endpoint->second;
    }
  }
  peers_->connect_all();
}

// Nothing is kept in the data dir (NODE_ID, EPOCH, CLUSTER) until the node holds its ports: a
// first start that fails leaves no membership behind for a later start to take silently.
Status Server::Impl::start() {
  if (config_.data_dir.empty()) config_.data_dir = "data/node_" + std::to_string(config_.port);
  auto listen_ip = resolve_listen_host();
  if (!listen_ip.is_ok()) return listen_ip.status();
  for (auto port : {resp_port(config_), grpc_port(config_)}) {
    if (!port.is_ok()) return port.status();
  }
  if (tls_on(config_)) {
    if (auto s = load_tls(); !s.is_ok()) return Status::invalid_argument("TLS: " + s.message());
  }
  auto admin_password = read_admin_password();
  if (!admin_password.is_ok()) return admin_password.status();
  auto identity = read_node_id(config_.data_dir, config_.node_id);
  if (!identity.is_ok()) return identity.status();
  const std::string& node_id = identity->id;
  std::error_code dir_error;
  std::filesystem::create_directories(config_.data_dir, dir_error);
  if (dir_error) return Status::io_error("cannot create data dir " + config_.data_dir + ": " + dir_error.message());

  if (config_.engine == "rocksdb") {
    storage::Options storage = config_.storage;
    if (!config_.compression) storage.compression = storage::BlockCompression::none;
    auto engine = storage::open_rocksdb_engine(config_.data_dir + "/db", storage);
    if (!engine.is_ok()) return engine.status();
    engine_ = std::move(engine).value();
  } else if (config_.engine == "memory") {
    engine_ = storage::make_memory_engine();
  } else {
    return Status::invalid_argument("--engine must be rocksdb or memory, got " + config_.engine);
  }
  // With --sync always, writes wait for their group commit on the writer's thread. With I/O threads
  // (--threads 2 or more) the others go there too, without a commit window: the engine's write
  // (RocksDB's WAL and memtable) then leaves the node's thread, which every request crosses.
  const bool rocksdb = config_.engine == "rocksdb";
  const bool synced = rocksdb && config_.storage.sync == storage::SyncPolicy::always;
  if (synced || (rocksdb && config_.threads > 1)) {
    writer_ = std::make_unique<DurableWriter>(
        *engine_, io_, std::chrono::microseconds(synced ? config_.commit_window_us : 0), &metrics_.commits());
  }

  bool kept = false;
  auto state = load_cluster_state(node_id, &kept);
  if (!state.is_ok()) return state.status();
  if (kept) {
    if (auto s = check_flags_against(*state); !s.is_ok()) return s;
  }
  const std::string self_addr = self_address(config_);
  // By its id first: a node keeps its place, partitions and data when its address changes.
  const std::string name = core::find_self(*state, node_id, self_addr);
  if (name.empty()) {
    return Status::invalid_argument("neither this node's id " + node_id + " nor its address " + self_addr +
                                    " is a member of the cluster kept in " + cluster_file());
  }
  // Replicas were placed by the zone the cluster knows, which is fixed once announced
  // (core/cluster_state.h): a node started under another is refused, not quietly kept.
  if (auto known = state->zones.find(name); known != state->zones.end() && known->second != config_.core.zone) {
    return Status::invalid_argument("this node is in zone " + known->second + " in the cluster kept in " +
                                    cluster_file() + ", not " + (config_.core.zone.empty() ? "none" : config_.core.zone) +
                                    ": a node's zone cannot change; start it with --zone " + known->second);
  }
  bool save_state = !kept;
  if (const std::string was = core::current_address(*state, name); core::move_member(*state, name, self_addr)) {
    spdlog::warn("this node ({}) moved from {} to {}; gossip tells the other members", node_id, was, self_addr);
    save_state = true;
  }
  const auto self = static_cast<core::MemberIndex>(
      std::find(state->members.begin(), state->members.end(), name) - state->members.begin());
  if (core::departed(*state, self)) {
    return Status::invalid_argument("this node (" + name + ") has left the cluster kept in " + cluster_file() + " (" +
                                    core::to_string(state->departures.at(name).kind) +
                                    "): it owns no partitions; to join again, start it with an empty --data-dir and --join");
  }
  const uint64_t cluster_id = state->cluster_id;
  const core::ClusterState to_keep = *state;
  auto epoch = ActorEpoch::read(config_.data_dir, node_id, config_.engine == "rocksdb");
  if (!epoch.is_ok()) return epoch.status();
  epoch_ = std::move(epoch).value();
  std::random_device entropy;  // a fresh request-id space for this incarnation (core/node.h)
  uint64_t id_base = (static_cast<uint64_t>(entropy()) << 32 | entropy()) >> 1;
  node_ = std::make_unique<core::Node>(std::move(state).value(), self, node_id, epoch_->epoch(), config_.core, id_base);
  runner_ = std::make_unique<node::EffectRunner>(*node_, *engine_, writer_.get(), *this);
  if (!node_->id_conflict().empty()) {
    return Status::invalid_argument("this node's id " + node_id + " is held by " + node_->id_conflict() +
                                    " in the cluster kept in " + cluster_file() +
                                    "; a node id must name one node: start this node with a new data dir");
  }
  if (auto s = restore_dot_floor(); !s.is_ok()) return s;
  const auto loading = std::chrono::steady_clock::now();
  auto loaded = runner_->recover();
  if (!loaded.is_ok()) return loaded.status();
  spdlog::info("anti-entropy trees rebuilt from {} keys in {} ms", *loaded,
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - loading).count());
  if (const uint64_t hints = node_->counters().hints_recovered; hints > 0) {
    spdlog::info("{} hints to hand off from before the restart", hints);
  }
  gate_ = std::make_unique<Gate>(
      io_, config_.security, [this]() -> const core::Users& { return node_->cluster_state().users; },
      [this] { return now_ms(); });

  std::vector<net::PeerAddress> peer_addresses;
  for (const auto& m : node_->ring().members()) {
    auto endpoint = peer_endpoint(core::current_address(node_->cluster_state(), m), config_.peer_port_offset);
    if (!endpoint.is_ok()) return endpoint.status();
    peer_addresses.push_back(net::PeerAddress{endpoint->first, endpoint->second});
    peer_ports_.push_back(endpoint->second);
  }
  net::PeerTransportOptions peer_options;
  if (!config_.compression) peer_options.compression.clear();
  peer_options.compression_min_bytes = config_.compression_min_bytes;
  if (tls_on(config_)) {
    peer_options.tls_server = [this] { return tls_.peer_server; };
    peer_options.tls_client = [this] { return tls_.client; };
  }
  peers_ = std::make_unique<net::PeerTransport>(io_, self, cluster_id, std::move(peer_addresses), *this, peer_options);
  if (config_.port + config_.peer_port_offset > 65535) {
    return Status::invalid_argument("--port plus --peer-port-offset is above 65535");
  }
  tcp::endpoint peer_listen(*listen_ip, static_cast<uint16_t>(config_.port + config_.peer_port_offset));
  if (auto s = peers_->listen(peer_listen); !s.is_ok()) return s;
  peers_->connect_all();  // so /cluster shows who is reachable before any request

  net::HttpServerOptions http_options;
  // Room for the largest value plus the JSON around it; anything bigger is refused from its headers.
  http_options.body_bytes_max = config_.limits.value_bytes_max + config_.limits.key_bytes_max + 64 * 1024;
  http_options.compress_responses = config_.compression;
  http_options.compression_min_bytes = config_.compression_min_bytes;
  if (tls_on(config_)) http_options.tls = [this] { return tls_.http; };
  // With --threads 2 or more, client connections are served on the I/O threads, which hand each
  // request to this one and get its answer back (runtime/io_threads.h).
  http_ = std::make_unique<net::HttpServer>(
      io_, http_options,
      [this](net::HttpRequest&& r, net::Responder respond) {
        mailbox_.dispatch([this, r = std::move(r), respond = std::move(respond)]() mutable {
          handle_http(std::move(r), std::move(respond));
        });
      },
      io_threads_.contexts());
  if (auto s = http_->listen(tcp::endpoint(*listen_ip, config_.port)); !s.is_ok()) return s;
  if (auto s = start_resp(*listen_ip); !s.is_ok()) return s;
  const uint16_t grpc_listen_port = *grpc_port(config_);
  if (grpc_listen_port != 0) {
    grpc_ = std::make_unique<net::GrpcServer>(
        io_,
        net::GrpcServerOptions{config_.limits, http_options.body_bytes_max,
                               tls_on(config_) ? std::optional<net::TlsFiles>(config_.tls) : std::nullopt},
        gateway(),
        [this] { return net::GrpcHealth{!stopping_, node_->node_id()}; },
        [this](core::Op op) { metrics_.request_done(net::Protocol::grpc, op, RequestOutcome::bad_request, 0); });
    if (auto s = grpc_->listen(listen_ip->to_string(), grpc_listen_port); !s.is_ok()) return s;
  }

  // The ports are ours: from here on this node is a member, and its data dir says so.
  if (!identity->kept) {
    if (auto s = keep_node_id(config_.data_dir, node_id); !s.is_ok()) return s;
  }
  if (auto s = epoch_->begin(); !s.is_ok()) return s;
  running_marked_ = true;
  if (epoch_->renewed()) {
    spdlog::warn("{}: new writes are versioned as {} so that no version made before is made again",
                 epoch_->previous_run_crashed() ? "the previous run did not stop cleanly and may have lost writes it had sent to replicas"
                                                : "the memory engine kept nothing from the previous run",
                 epoch_->actor());
  }
  if (save_state) {
    if (auto s = save_cluster_state(to_keep); !s.is_ok()) return s;
  }
  if (auto s = create_first_admin(*admin_password); !s.is_ok()) return s;

  arm_tick();
  spdlog::info("node {} ({}) serving HTTP on {}:{} ({} threads), RESP on {}, gRPC on {}, peers on port {}{}, {} nodes "
               "(ring version {}), Q={}, engine {} in {}",
               node_id, self_addr, listen_ip->to_string(), config_.port, config_.threads,
               resp_ ? "port " + std::to_string(resp_->port()) : std::string("no port (off)"),
               grpc_ ? "port " + std::to_string(grpc_listen_port) : std::string("no port (off)"), peer_listen.port(),
               tls_on(config_) ? ", every port in TLS (mutual TLS between peers)" : "",
               node_->ring().members().size(),
               node_->cluster_state().ring_version, node_->ring().partitions(), config_.engine, config_.data_dir);
  return Status::ok();
}

// The RESP front end (net/resp_server.h) on --resp-port, beside HTTP; its commands take the same
// path into the core as HTTP's requests.
Status Server::Impl::start_resp(const asio::ip::address& listen_ip) {
  const uint16_t port = resp_port(config_).value();  // checked at the start
  if (port == 0) return Status::ok();
  net::RespServerOptions options;
  if (tls_on(config_)) options.tls = [this] { return tls_.resp; };
  // Room for the largest value escaped as JSON is checked per command; a bulk string longer than
  // the value limit plus slack could never be stored, so it is a protocol error from its header.
  options.parser.bulk_bytes_max = config_.limits.value_bytes_max + 64 * 1024;
  options.parser.command_bytes_max = 8 * options.parser.bulk_bytes_max;
  options.commands.key_bytes_max = config_.limits.key_bytes_max;
  options.commands.value_bytes_max = config_.limits.value_bytes_max;
  refresh_resp_info();
  // Commands come from connections on the I/O threads (--threads 2 or more): each is handed to this
  // one, and its answer back.
  resp_ = std::make_unique<net::RespServer>(
      io_, options, gateway(),
      [this](const net::Caller& caller, net::ClientDone done) {
        mailbox_.dispatch([this, caller, done = std::move(done)]() mutable {
          if (!gate_->enforced()) {  // as Redis answers AUTH without a password set: the client's setup is wrong
            core::ClientResponse off;
            off.outcome = core::Outcome::bad_request;
            off.message = "security is off (--security off): this node checks no credentials, so connect without AUTH";
            return done(std::move(off));
          }
          gate_->authenticate(caller, [done = std::move(done)](Gate::Verdict verdict) { done(refusal(verdict)); });
        });
      },
      [this, node_id = node_->node_id(), address = member(node_->self())] {
        net::resp::NodeInfo info;
        info.node_id = node_id;
        info.address = address;
        info.members = resp_members_.load(std::memory_order_relaxed);
        info.keys_estimate = resp_keys_estimate_.load(std::memory_order_relaxed);
        const auto& defaults = config_.core.defaults;
        info.n = std::min<uint32_t>(defaults.n, static_cast<uint32_t>(info.members));
        info.r = std::min(defaults.r, info.n);
        info.w = std::min(defaults.w, info.n);
        info.uptime_s = now_ms() / 1000;
        return info;
      },
      io_threads_.contexts());
  return resp_->listen(tcp::endpoint(listen_ip, port));
}

void Server::Impl::refresh_resp_info() {
  resp_members_.store(node_->ring().members().size(), std::memory_order_relaxed);
  resp_keys_estimate_.store(engine_->stats().keys_estimate, std::memory_order_relaxed);
  resp_info_refreshed_ms_ = now_ms();
}

void Server::Impl::arm_tick() {
  tick_.expires_after(std::chrono::milliseconds(config_.tick_ms));
  tick_.async_wait([this](boost::system::error_code ec) {
    if (ec) return;
    runner_->tick();
    if (resp_ && now_ms() >= resp_info_refreshed_ms_ + kRespInfoRefreshMs) refresh_resp_info();
    log_suspicions();
    leave_once_departed();
    // gRPC's calls end by the same deadline (GrpcServer::begin_shutdown), answered on this thread.
    if (stopping_ && (requests_in_flight() == 0 || now_ms() >= stop_deadline_ms_) && (!grpc_ || grpc_->stopped())) {
      return finish_stop();
    }
    arm_tick();
  });
}

// A node that has left the cluster (its leave is done, or it was removed or replaced) serves
// nothing any more: it stops once the hints it holds for others are delivered.
void Server::Impl::leave_once_departed() {
  if (stopping_ || !node_->departed()) return;
  const auto& hints = node_->pending_hints();
  if (std::any_of(hints.begin(), hints.end(), [](uint64_t n) { return n > 0; })) return;
  spdlog::info("this node has left the cluster (ring version {}): every partition it owned is served by others; "
               "stopping",
               node_->cluster_state().ring_version);
  stop();
}

void Server::Impl::finish_stop() {
  spdlog::info("stopped serving: {} requests were still in flight", requests_in_flight());
  peers_->stop();
  io_.stop();
}

// Logs each peer that turned suspect (connected, heartbeats overdue) and each that came back up.
void Server::Impl::log_suspicions() {
  const auto members = node_->ring().members().size();
  suspected_.resize(members, false);
  for (core::MemberIndex m = 0; m < members; ++m) {
    const auto status = node_->peer_status(m);
    if (status == core::PeerStatus::down) suspected_[m] = false;  // "is down" is logged when its connection goes
    if (status == core::PeerStatus::down || (status == core::PeerStatus::suspect) == suspected_[m]) continue;
    suspected_[m] = !suspected_[m];
    if (suspected_[m]) {
      spdlog::warn("peer {} is suspect: connected, but its heartbeats stopped (phi {:.1f})", member(m),
                   node_->peer_phi(m, now_ms()));
    } else {
      spdlog::info("peer {} is up again: its heartbeats are back", member(m));
    }
  }
}

void Server::Impl::handle_http(net::HttpRequest&& request, net::Responder respond) {
  const auto received = std::chrono::steady_clock::now();
  auto call = net::parse_api_request(request, config_.limits);
  if (auto* response = std::get_if<net::HttpResponse>(&call)) {
    if (request.path == "/cluster/join" && response->status == 403) {  // no certificate the CA signed
      metrics_.join_refused();
      if (auto more = join_refusal_log_.allow()) {
        spdlog::warn("refused a join request: it came without a client certificate signed by the cluster's CA{}", *more);
      }
    }
    if (request.path == "/kv" || request.path.starts_with("/kv/")) {  // a key request refused before the core saw it
      const auto op = request.path == "/kv" ? core::Op::list : net::kv_op(request.method).value_or(core::Op::put);
      metrics_.request_done(net::Protocol::http, op, RequestOutcome::bad_request, seconds_since(received));
    }
    return respond(std::move(*response));
  }
  if (auto* file = std::get_if<net::PageFile>(&call)) return respond(embedded_file_response(file->name));
  if (auto* page = std::get_if<net::InfoPage>(&call)) {
    net::HttpResponse response;
    // Any page may read the info pages: the dashboard served by one node fetches every node's /cluster.
    response.headers.emplace_back("Access-Control-Allow-Origin", "*");
    if (*page == net::InfoPage::metrics) {
      response.body = metrics_page();
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return respond(std::move(response));
    }
    response.body = info_page(*page);
    if (*page == net::InfoPage::health && stopping_) response.status = 503;  // still live, no longer ready
    return respond(std::move(response));
  }
  if (stopping_) {
    return respond(
        net::error_response(503, "this node is stopping; it did nothing with this request: send it to another node"));
  }
  if (auto* join = std::get_if<net::JoinRequest>(&call)) {
    const auto& announced = node_->cluster_state().node_ids;
    if (!announced.contains(join->address)) spdlog::info("{} ({}) asks to join", join->address, join->node_id);
    const Status asked = node_->on_join_request(join->address, join->node_id, join->zone);
    runner_->run();
    if (!asked.is_ok()) return respond(net::error_response(asked.code() == Code::unavailable ? 503 : 409, asked.message()));
    net::HttpResponse response;
    response.body = net::encode_cluster_state(node_->cluster_state());
    response.content_type = "application/x-protobuf";
    return respond(std::move(response));
  }
  auto caller = net::caller_with_authorization(net::Protocol::http, request.client_address, request.authorization);
  if (auto* admin = std::get_if<net::UserAdmin>(&call)) {
    if (!gate_->enforced()) {  // else anyone could make users now that would hold once security is on
      return respond(net::error_response(409, "security is off (--security off): users are managed on nodes that "
                                              "check them; start the nodes with --security on (docs/security.md)"));
    }
    return gate_->admit(caller, core::Permission::admin, {},
                        [this, admin = std::move(*admin), respond = std::move(respond)](Gate::Verdict verdict) {
                          if (verdict.outcome != core::Outcome::ok) {
                            return respond(net::refusal_response(verdict.outcome, verdict.message));
                          }
                          handle_user_admin(admin, respond);
                        });
  }
  if (auto* admin = std::get_if<net::ClusterAdmin>(&call)) {
    return gate_->admit(caller, core::Permission::admin, {},
                        [this, admin = std::move(*admin), respond = std::move(respond)](Gate::Verdict verdict) {
                          if (verdict.outcome != core::Outcome::ok) {
                            return respond(net::refusal_response(verdict.outcome, verdict.message));
                          }
                          handle_cluster_admin(admin, respond);
                        });
  }
  auto& client_request = std::get<core::ClientRequest>(call);
  const core::Op op = client_request.op;
  std::string key = client_request.key;
  submit(caller, std::move(client_request),
         [this, op, key = std::move(key), respond = std::move(respond)](core::ClientResponse response) {
           if (op != core::Op::inspect || response.outcome != core::Outcome::ok) {
             return respond(net::with_auth_headers(net::kv_response(op, key, response), response.outcome));
           }
           std::vector<net::InspectedReplica> replicas;
           for (const auto& copy : response.replicas) replicas.push_back({member(copy.member), member_node_id(copy.member)});
           respond(net::inspect_response(key, node_->ring().partition_of_key(key), response, replicas));
         },
         received);
}

// An admin's change to the users (the caller holds the admin grant): made here under the user's
// next revision and gossiped (core/users.h); the answer is the user as it is now.
void Server::Impl::handle_user_admin(const net::UserAdmin& admin, net::Responder respond) {
  using Action = net::UserAdmin::Action;
  const core::Users& users = node_->cluster_state().users;
  if (admin.action == Action::list) return respond(net::users_response(users));
  const core::User* existing = core::find_user(users, admin.user);
  if (existing == nullptr && admin.action != Action::set_password) {
    return respond(net::error_response(404, "no user " + admin.user));
  }
  core::User user = existing ? *existing : core::User{};
  net::HttpResponse answer;
  switch (admin.action) {
    case Action::list: break;
    case Action::set_password:
      // scrypt on the node's thread: ~0.1 s per change, which only an admin can ask for.
      user.password_hash = security::hash_password(admin.password);
      if (existing == nullptr) answer.status = 201;
      break;
    case Action::remove: user = core::User{0, true, {}, {}, {}}; break;
    case Action::grant: user.grants[admin.prefix] |= admin.permissions; break;
    case Action::revoke: {
      auto grant = user.grants.find(admin.prefix);
      if (grant == user.grants.end()) {
        return respond(net::error_response(404, "user " + admin.user + " has no grant on prefix '" + admin.prefix + "'"));
      }
      grant->second &= static_cast<core::Permissions>(admin.permissions == 0 ? 0 : ~admin.permissions);
      if (grant->second == 0) user.grants.erase(grant);
      break;
    }
    case Action::new_token: {
      auto token = security::new_token();
      user.tokens[token.id] = token.digest;
      answer.body = "{\"status\":\"success\",\"user\":\"" + admin.user + "\",\"id\":\"" + token.id +
                    "\",\"token\":\"" + token.token + "\"}";
      break;
    }
    case Action::revoke_token:
      if (user.tokens.erase(admin.token_id) == 0) {
        return respond(net::error_response(404, "user " + admin.user + " has no token " + admin.token_id));
      }
      break;
  }
  if (auto s = node_->change_user(admin.user, std::move(user)); !s.is_ok()) {
    return respond(net::error_response(400, s.message()));
  }
  runner_->run();
  spdlog::info("user {}: {} (by an admin request; gossip spreads it)", admin.user,
               admin.action == Action::remove ? "removed" : "changed");
  if (answer.body.empty()) {
    core::Users now;
    if (const core::User* changed = core::find_user(node_->cluster_state().users, admin.user)) now.emplace(admin.user, *changed);
    answer.body = net::users_response(now).body;
  }
  respond(std::move(answer));
}

std::string Server::Impl::member_at(const std::string& address) const {
  const auto& state = node_->cluster_state();
  for (const auto& name : state.members) {
    if (name == address || core::current_address(state, name) == address) return name;
  }
  return address;  // not a member: check_departure says so
}

// An admin's leave, remove, replace or repair (the caller holds the admin grant, or security is
// off). A departure is recorded here and gossiped; the claimant plans it (core/cluster_state.h).
void Server::Impl::handle_cluster_admin(const net::ClusterAdmin& admin, net::Responder respond) {
  using Action = net::ClusterAdmin::Action;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("status");
  w.String("success");
  if (admin.action == Action::repair) {
    if (admin.partition && *admin.partition >= node_->ring().partitions()) {
      return respond(net::error_response(400, "partition " + std::to_string(*admin.partition) + " does not exist: the ring has " +
                                                  std::to_string(node_->ring().partitions()) + " (0 to " +
                                                  std::to_string(node_->ring().partitions() - 1) + ")"));
    }
    const size_t queued = node_->repair(admin.partition);
    runner_->run();
    if (admin.partition && queued == 0) {
      return respond(net::error_response(409, "this node neither replicates nor holds data of partition " +
                                                  std::to_string(*admin.partition) + ", or its replicas are down: ask one "
                                                  "of its replicas (GET /ring lists them)"));
    }
    spdlog::info("repair asked: {} anti-entropy exchanges queued{}", queued,
                 admin.partition ? " for partition " + std::to_string(*admin.partition) : std::string());
    w.Key("exchanges");
    w.Uint64(queued);
  } else {
    const std::string self = node_->ring().members()[node_->self()];
    const std::string name = admin.node.empty() ? self : member_at(admin.node);
    core::Departure departure{admin.action == Action::leave    ? core::DepartureKind::leave
                              : admin.action == Action::remove ? core::DepartureKind::remove
                                                               : core::DepartureKind::replace,
                              admin.replacement};
    if (auto asked = node_->request_departure(name, departure); !asked.is_ok()) {
      return respond(net::error_response(asked.code() == Code::conflict ? 409 : 400, asked.message()));
    }
    runner_->run();
    spdlog::info("{} asked for {}{} (by an admin request; the claimant plans it, gossip spreads it)",
                 core::to_string(departure.kind), name,
                 departure.replacement.empty() ? std::string() : " by " + departure.replacement);
    w.Key("node");
    w.String(name.c_str());
    w.Key("departure");
    w.String(core::to_string(departure.kind));
    if (!departure.replacement.empty()) {
      w.Key("replacement");
      w.String(departure.replacement.c_str());
    }
  }
  w.EndObject();
  net::HttpResponse response;
  response.status = 202;  // under way: /cluster shows the transfers
  response.body.assign(buffer.GetString(), buffer.GetSize());
  respond(std::move(response));
}

void Server::Impl::submit(const net::Caller& caller, core::ClientRequest request, net::ClientDone done,
                          std::chrono::steady_clock::time_point received) {
  if (!gate_->enforced()) return run_request(caller.protocol, std::move(request), std::move(done), received);
  const core::Access access = core::access_needed(request);
  std::string key(access.key);  // a copy made before the request moves into the lambda
  gate_->admit(caller, access.permission, std::move(key),
               [this, protocol = caller.protocol, request = std::move(request), done = std::move(done),
                received](Gate::Verdict verdict) mutable {
                 if (verdict.outcome == core::Outcome::ok) {
                   return run_request(protocol, std::move(request), std::move(done), received);
                 }
                 metrics_.request_done(protocol, request.op, outcome_of(request.op, refusal(verdict)),
                                       seconds_since(received));
                 done(refusal(verdict));
               });
}

void Server::Impl::run_request(net::Protocol protocol, core::ClientRequest request, net::ClientDone done,
                               std::chrono::steady_clock::time_point received) {
  if (stopping_) {
    core::ClientResponse refused;
    refused.outcome = core::Outcome::unavailable;
    refused.message = "this node is stopping; it did nothing with this request: send it to another node";
    return done(std::move(refused));
  }
  core::RequestId id = next_client_id_++;
  pending_.emplace(id, PendingCall{std::move(done), protocol, request.op, received});
  runner_->client_request(id, std::move(request));
}

// --admin-password-file: the user `admin`, with every grant, if the cluster has no users yet. The
// file is read at every start that gives it, before anything is kept, so a wrong path is caught at
// once, not at a later start.
Result<std::string> Server::Impl::read_admin_password() const {
  if (config_.admin_password_file.empty()) return std::string();
  auto password = security::read_secret_file(config_.admin_password_file);
  if (!password.is_ok()) return Status::invalid_argument("--admin-password-file " + password.status().message());
  return password;
}

Status Server::Impl::create_first_admin(const std::string& password) {
  if (!config_.security || !node_->cluster_state().users.empty()) return Status::ok();
  if (password.empty()) {
    spdlog::warn("--security on, and the cluster has no users yet: nobody can use it until a node starts with "
                 "--admin-password-file (or joins a cluster that has users)");
    return Status::ok();
  }
  core::User admin;
  admin.password_hash = security::hash_password(password);
  admin.grants[""] = core::kAllPermissions;
  if (auto s = node_->change_user("admin", std::move(admin)); !s.is_ok()) return s;
  runner_->run();
  spdlog::info("created the user admin with every grant (--admin-password-file); gossip spreads it");
  return Status::ok();
}

// The floor the node's dots are numbered above, as the last run kept it (none yet: 0).
Status Server::Impl::restore_dot_floor() {
  std::ifstream in(dot_floor_file());
  if (!in) return Status::ok();
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  uint64_t floor = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), floor);
  if (ec != std::errc() || (end != text.data() + text.size() && *end != '\n')) {
    return Status::corruption(dot_floor_file() + " does not hold a number: '" + text + "'");
  }
  node_->restore_dot_floor(floor);
  return Status::ok();
}

namespace {

// What a member is to the cluster now (GET /cluster, `minidynamo admin status`).
const char* member_role(const core::ClusterState& state, core::MemberIndex m) {
  if (core::departed(state, m)) return "departed";
  if (auto it = state.departures.find(state.members[m]); it != state.departures.end()) {
    switch (it->second.kind) {
      case core::DepartureKind::leave: return "leaving";
      case core::DepartureKind::remove: return "removing";
      case core::DepartureKind::replace: return "replacing";
    }
  }
  return std::find(state.owners.begin(), state.owners.end(), m) != state.owners.end() ? "serving" : "joining";
}

}  // namespace

std::string Server::Impl::info_page(net::InfoPage page) const {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  const auto& ring = node_->ring();
  w.StartObject();
  w.Key("status");
  w.String(stopping_ ? "stopping" : "ok");
  if (page == net::InfoPage::health || page == net::InfoPage::live) {
    w.Key("ready");
    w.Bool(!stopping_);
  }
  w.Key("node_id");
  w.String(node_->node_id().c_str());
  w.Key("address");
  w.String(member(node_->self()).c_str());
  if (page == net::InfoPage::cluster) {
    const auto& state = node_->cluster_state();
    w.Key("ring_version");
    w.Uint64(state.ring_version);
    w.Key("claimant");
    w.String(member(core::claimant(state)).c_str());
    w.Key("joining");  // announced, not yet admitted into the ring by the claimant
    w.StartArray();
    for (const auto& address : core::joiners(state)) w.String(address.c_str());
    w.EndArray();
    w.Key("changing");  // the owners are changing: transfers are under way (core/transfers.h)
    w.Bool(!state.next_owners.empty());
    w.Key("departures");  // asked for by an admin: leave, remove or replace
    w.StartArray();
    for (const auto& [name, departure] : state.departures) {
      w.StartObject();
      w.Key("node");
      w.String(core::current_address(state, name).c_str());
      w.Key("kind");
      w.String(core::to_string(departure.kind));
      w.Key("replacement");
      if (departure.replacement.empty()) {
        w.Null();
      } else {
        w.String(departure.replacement.c_str());
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("transfers");  // of the change under way; a source's own are as it has them now
    w.StartArray();
    const auto sending = node_->transfers_sending();
    for (auto t : state.transfers) {
      for (const auto& mine : sending) {
        if (mine.partition == t.partition && mine.from == t.from && mine.to == t.to && mine.keys > t.keys) t = mine;
      }
      w.StartObject();
      w.Key("partition");
      w.Uint(t.partition);
      w.Key("from");
      w.String(member(t.from).c_str());
      w.Key("to");
      w.String(member(t.to).c_str());
      w.Key("keys");
      w.Uint64(t.keys);
      w.Key("done");
      w.Bool(t.done);
      w.EndObject();
    }
    w.EndArray();
    w.Key("actor");  // the id this node versions new writes under (runtime/actor_epoch.h)
    w.String(epoch_->actor().c_str());
    w.Key("id_conflict");  // another node's address that claims this node's id (core/node.h), or null
    if (node_->id_conflict().empty()) {
      w.Null();
    } else {
      w.String(node_->id_conflict().c_str());
    }
    w.Key("dot_floor");  // its new dots are numbered above this (core/tombstone_reaper.h)
    w.Uint64(node_->dot_floor());
    w.Key("tombstones");  // deleted keys this node holds, waiting to be reaped
    w.Uint64(node_->reaper().tombstones());
    w.Key("nodes");
    w.StartArray();
    for (uint32_t m = 0; m < ring.members().size(); ++m) {
      w.StartObject();
      w.Key("address");
      w.String(member(m).c_str());
      w.Key("node_id");
      w.String(member_node_id(m).c_str());
      w.Key("zone");  // as the node announced it (--zone); the ring places by it from its next version
      if (auto zone = state.zones.find(ring.members()[m]); zone == state.zones.end()) {
        w.Null();
      } else {
        w.String(zone->second.c_str());
      }
      w.Key("peer_port");
      w.Uint(peer_ports_[m]);
      w.Key("self");
      w.Bool(m == node_->self());
      w.Key("role");  // serving (owns partitions), joining, leaving, removing, replacing, or departed
      w.String(member_role(state, m));
      w.Key("reachable");
      w.Bool(node_->peer_status(m) != core::PeerStatus::down && (m == node_->self() || peers_->is_up(m)));
      w.Key("status");
      w.String(core::to_string(node_->peer_status(m)));
      w.Key("phi");
      w.Double(std::round(node_->peer_phi(m, now_ms()) * 100) / 100);
      w.Key("pending_hints");  // writes this node holds for that node, to hand off
      w.Uint64(node_->pending_hints()[m]);
      w.EndObject();
    }
    w.EndArray();
    const auto& c = node_->counters();
    const auto& a = node_->anti_entropy().counters();
    w.Key("counters");
    w.StartObject();
    for (auto [name, value] : {std::pair{"client_requests", c.client_requests}, std::pair{"forwarded", c.forwarded},
                               std::pair{"quorum_failures", c.quorum_failures}, std::pair{"read_repairs", c.read_repairs},
                               std::pair{"blind_writes", c.blind_writes}, std::pair{"replica_writes", c.replica_writes},
                               std::pair{"replica_reads", c.replica_reads},
                               std::pair{"bad_replica_objects", c.bad_replica_objects}, std::pair{"suspicions", c.suspicions},
                               std::pair{"bad_peer_messages", bad_peer_messages_},
                               std::pair{"dot_collisions", c.dot_collisions}, std::pair{"hints_stored", c.hints_stored},
                               std::pair{"hints_refused", c.hints_refused}, std::pair{"hints_delivered", c.hints_delivered},
                               std::pair{"handoff_failures", c.handoff_failures},
                               std::pair{"hints_recovered", c.hints_recovered},
                               std::pair{"hints_unreadable", c.hints_unreadable},
                               std::pair{"aae_exchanges", a.exchanges}, std::pair{"aae_exchanges_in_sync", a.exchanges_in_sync},
                               std::pair{"aae_segments_differing", a.segments_differing},
                               std::pair{"aae_objects_sent", a.objects_sent}, std::pair{"gossip_rounds", c.gossip_rounds},
                               std::pair{"gossip_refused", c.gossip_refused},
                               std::pair{"duplicate_ids_refused", c.duplicate_ids_refused},
                               std::pair{"ring_changes", c.ring_changes},
                               std::pair{"reap_rounds", c.reap_rounds}, std::pair{"tombstones_reaped", c.tombstones_reaped},
                               std::pair{"transfer_batches_sent", c.batches_sent},
                               std::pair{"transfer_keys_sent", c.keys_sent},
                               std::pair{"transfer_batches_received", c.batches_received},
                               std::pair{"transfer_keys_received", c.keys_received},
                               std::pair{"transfer_batches_resent", c.batches_resent},
                               std::pair{"transfers_done", c.transfers_done}}) {
      w.Key(name);
      w.Uint64(value);
    }
    const auto t = peers_->counters();
    for (auto [name, value] : {std::pair{"peer_frames_sent", t.frames_sent}, std::pair{"peer_frames_received", t.frames_received},
                               std::pair{"peer_bytes_sent", t.bytes_sent}, std::pair{"peer_bytes_received", t.bytes_received},
                               std::pair{"peer_frames_compressed_sent", t.frames_compressed_sent},
                               std::pair{"peer_frames_compressed_received", t.frames_compressed_received},
                               std::pair{"peer_closed_oversized", t.closed_oversized},
                               std::pair{"storage_file_bytes", engine_->stats().table_bytes},
                               std::pair{"peer_closed_bad_frame", t.closed_bad_frame},
                               std::pair{"peer_closed_bad_handshake", t.closed_bad_handshake},
                               std::pair{"peer_closed_hung", t.closed_hung}, std::pair{"peer_dropped_sends", t.dropped_sends}}) {
      w.Key(name);
      w.Uint64(value);
    }
    w.EndObject();
  } else if (page == net::InfoPage::ring) {
    w.Key("partitions");
    w.Uint(ring.partitions());
    w.Key("members");
    w.StartArray();
    for (const auto& m : ring.members()) w.String(m.c_str());
    w.EndArray();
    w.Key("zones");  // per member, the zone this ring places replicas by (null: none)
    w.StartArray();
    const auto& zones = node_->cluster_state().member_zones;
    for (size_t m = 0; m < ring.members().size(); ++m) {
      if (zones.empty() || zones[m].empty()) {
        w.Null();
      } else {
        w.String(zones[m].c_str());
      }
    }
    w.EndArray();
    // Each partition's preference list (N replicas) under the owners serving now, and under the
    // next ones while they change (null when they do not).
    auto lists = [&](const core::Ring& r) {
      w.StartArray();
      for (uint32_t p = 0; p < r.partitions(); ++p) {
        w.StartObject();
        w.Key("partition");
        w.Uint(p);
        w.Key("preference_list");
        w.StartArray();
        for (auto m : r.preference_list(p, std::min<size_t>(config_.core.defaults.n, r.serving()))) {
          w.String(r.members()[m].c_str());
        }
        w.EndArray();
        w.EndObject();
      }
      w.EndArray();
    };
    w.Key("owners");
    lists(ring);
    w.Key("next_owners");
    if (auto next = core::next_ring_of(node_->cluster_state())) {
      lists(*next);
    } else {
      w.Null();
    }
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string Server::Impl::metrics_page() const {
  MetricsSnapshot snapshot;
  for (core::MemberIndex m = 0; m < node_->ring().members().size(); ++m) snapshot.members.push_back(member(m));
  snapshot.peer = peers_->counters();
  snapshot.http = http_->counters();
  if (resp_) snapshot.resp = resp_->counters();
  snapshot.refused = gate_->counters();
  snapshot.storage = engine_->stats();
  snapshot.bad_peer_messages = bad_peer_messages_;
  snapshot.requests_in_flight = pending_.size();
  snapshot.now_ms = now_ms();
  return metrics_.render(*node_, snapshot);
}

Server::Server(NodeConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Server::~Server() = default;
Status Server::start() { return impl_->start(); }
void Server::run() { impl_->run(); }
void Server::stop() { impl_->stop(); }
void Server::reload_tls() { impl_->reload_tls(); }

}  // namespace md::runtime
