#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "cli/node_command.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <functional>
#include <string_view>
#include <thread>

#include "cli/config_sources.h"
#include "core/cluster_state.h"
#include "runtime/server.h"
#include "runtime/service_notify.h"

namespace md::cli {
namespace {

// systemd's Type=notify (runtime/service_notify.h); a failure is logged and the node goes on.
void tell_service_manager(std::string_view state) {
  if (auto s = runtime::notify_service(state); !s.is_ok()) spdlog::warn("{}", s.message());
}

}  // namespace

void add_node_command(CLI::App& app) {
  auto config = std::make_shared<runtime::NodeConfig>();
  auto sync = std::make_shared<std::string>("always");
  auto* cmd = app.add_subcommand("node", "Run one node of a cluster (in the foreground; Ctrl-C stops it)");
  cmd->add_option("--port", config->port, "HTTP API port")->capture_default_str();
  cmd->add_option("--host", config->host,
                  "Address (IP or name) this node listens on and is known by in --nodes; --listen and --advertise "
                  "set the two apart")
      ->capture_default_str();
  cmd->add_option("--listen", config->listen,
                  "IP address (or a name resolved at start) to bind the HTTP and peer ports on, e.g. 0.0.0.0 in a "
                  "container (default: --host)");
  cmd->add_option("--advertise", config->advertise,
                  "host:port other nodes and --nodes know this node by, e.g. a DNS name (default: --host:--port); "
                  "peers resolve it again at every connect, so a node that comes back under the same name with a "
                  "new IP is found");
  auto* nodes = cmd->add_option("--nodes", config->nodes,
                  "The founding members' HTTP addresses host:port, comma separated, this node's included; every "
                  "founding node must be given the same list. Used on a data dir's first start only: membership "
                  "is kept in the data dir and spread by gossip from then on")
      ->delimiter(',')
      ->default_str(fmt::format("{}", fmt::join(config->nodes, ",")));  // as given: a config file takes it back
  cmd->add_option("--join", config->join,
                  "Join the cluster of the node at this HTTP address host:port instead of founding one from "
                  "--nodes (first start only); this node starts serving once the cluster's claimant admitted it");
  cmd->add_option("--zone", config->core.zone,
                  "The failure domain this node is in (a rack, a data centre's zone): each key's replicas are "
                  "placed in as many distinct zones as exist, so losing a whole zone loses no key when N >= the "
                  "number of zones. Fixed once the cluster knows it (default: none)")
      ->check([](const std::string& zone) { return core::validate_zone(zone).message(); });
  cmd->add_option("--gossip-ms", config->core.gossip_interval_ms,
                  "How often this node sends its view of the membership to one random member")
      ->capture_default_str();
  cmd->add_option("--peer-port-offset", config->peer_port_offset,
                  "Each node serves its peers on its HTTP port plus this offset (5001 -> 6001)")
      ->capture_default_str();
  cmd->add_option("--resp-port", config->resp_port,
                  "Serve the Redis protocol (RESP2/RESP3: redis-cli, Redis clients) on this port; 0 turns it off "
                  "(default: the HTTP port + 1379, 5001 -> 6380)")
      ->check(CLI::Range(0u, 65535u));
  cmd->add_option("--grpc-port", config->grpc_port,
                  "Serve the gRPC service minidynamo.v1.KeyValue on this port; 0 turns it off (default: the HTTP "
                  "port + 2000, 5001 -> 7001)")
      ->check(CLI::Range(0u, 65535u));
  cmd->add_option("--data-dir", config->data_dir, "Where this node keeps its data (default: ./data/node_<port>)");
  cmd->add_option("--node-id", config->node_id,
                  "Stable id used in vector clocks, unique in the cluster (default: node_ and 128 random bits); "
                  "kept in the data dir on first start");
  auto* partitions =
      cmd->add_option("--partitions", config->partitions,
                      "Ring partitions Q, a power of two; the same on every node (first start only: given again, "
                      "it must match the cluster kept in the data dir)")
          ->capture_default_str();
  cmd->add_option("--engine", config->engine, "Storage engine: rocksdb (durable) or memory")
      ->check(CLI::IsMember({"rocksdb", "memory"}))
      ->capture_default_str();
  cmd->add_option("--sync", *sync,
                  "When an acknowledged write is fsynced: always (before the ack, group committed), "
                  "interval (every --sync-interval-ms), none (left to the OS)")
      ->check(CLI::IsMember({"always", "interval", "none"}))
      ->capture_default_str();
  cmd->add_option("--sync-interval-ms", config->storage.sync_interval_ms, "WAL fsync period for --sync interval")
      ->capture_default_str();
  cmd->add_option("--commit-window-us", config->commit_window_us,
                  "With --sync always: after a batch of more than one write, the next fsync starts no sooner "
                  "than one window later, so under load each covers more writes; after a batch of one write, "
                  "at once (0: each batch at once)")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--threads", config->threads,
                  "Threads: the node's own runs the protocol and the peers, threads - 1 more serve the HTTP and "
                  "RESP connections, and then the commit thread takes every write (1: the node's thread serves "
                  "the connections and writes what needs no fsync itself); default: the cores this process may "
                  "use")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--n", config->core.defaults.n, "Default replicas N per key")->capture_default_str();
  cmd->add_option("--r", config->core.defaults.r, "Default read quorum R")->capture_default_str();
  cmd->add_option("--w", config->core.defaults.w, "Default write quorum W")->capture_default_str();
  cmd->add_option("--timeout-ms", config->core.request_timeout_ms,
                  "Request deadline: a quorum not reached by then answers 503")
      ->capture_default_str();
  cmd->add_option("--read-repair-window-ms", config->core.read_repair_window_ms,
                  "After a read's answer, late replica replies within this window are repaired too")
      ->capture_default_str();
  cmd->add_option("--heartbeat-ms", config->core.failure_detector.heartbeat_interval_ms,
                  "How often a heartbeat goes to every peer (the failure detector learns their intervals)")
      ->check(CLI::Range(10, 60000))
      ->capture_default_str();
  cmd->add_option("--phi-threshold", config->core.failure_detector.phi_threshold,
                  "A peer whose heartbeats are this overdue (phi: 1 = 10% likely alive, 8 = 1e-8) is suspect")
      ->check(CLI::Range(1.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--aae-interval-ms", config->core.anti_entropy.interval_ms,
                  "Anti-entropy: start one Merkle-tree exchange with a replica peer this often (0: off); "
                  "each node walks its (partition, peer) pairs round robin")
      ->capture_default_str();
  cmd->add_option("--tombstone-grace-ms", config->core.reaping.grace_ms,
                  "A deleted key's tombstone is removed once every member has held it this long and none holds a "
                  "hint for it (0: keep tombstones forever). Must exceed --timeout-ms plus --read-repair-window-ms "
                  "plus the longest a peer message may be delayed (a paused process included): an older copy "
                  "arriving after the removal would bring the deleted value back")
      ->capture_default_str();
  cmd->add_option("--max-siblings", config->core.siblings_max,
                  "A write that would leave more siblings on a key is refused (409) until a client resolves them")
      ->capture_default_str();
  cmd->add_option("--max-hints", config->core.hints_max,
                  "Writes this node keeps for down nodes (one per node and key); beyond it, it refuses to stand in")
      ->capture_default_str();
  cmd->add_option("--max-key-bytes", config->limits.key_bytes_max, "Longest key accepted")->capture_default_str();
  cmd->add_option("--max-value-bytes", config->limits.value_bytes_max, "Largest value accepted, as compact JSON")
      ->capture_default_str();
  auto compression = std::make_shared<std::string>("auto");
  cmd->add_option("--compression", *compression,
                  "auto: compress peer frames (to peers that decode them), HTTP responses (to clients that "
                  "accept them) and storage blocks; off: none of them")
      ->check(CLI::IsMember({"auto", "off"}))
      ->capture_default_str();
  cmd->add_option("--compression-min-bytes", config->compression_min_bytes,
                  "Peer frames and HTTP response bodies shorter than this are sent uncompressed")
      ->check(CLI::Range(0u, 1u << 29))
      ->capture_default_str();
  cmd->add_option("--tls-cert", config->tls.certificate,
                  "This node's certificate (PEM, signed by --tls-ca): with --tls-key and --tls-ca, every port "
                  "serves TLS only (1.2 or newer), peers in mutual TLS; the files are read again on SIGHUP");
  cmd->add_option("--tls-key", config->tls.key, "The private key of --tls-cert (PEM)");
  cmd->add_option("--tls-ca", config->tls.ca,
                  "The cluster's CA certificate (PEM): it signs every node's certificate, and this node trusts "
                  "only servers, peers and joiners whose certificate it signed");
  auto security = std::make_shared<std::string>("off");
  cmd->add_option("--security", *security,
                  "on: every client request needs a user's password or an API token, and grants decide what it "
                  "may do (docs/security.md); needs --tls-*, so that no credential travels in clear text")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cmd->add_option("--admin-password-file", config->admin_password_file,
                  "With --security on: a file holding the password of the user `admin` (every grant), created "
                  "if the cluster has no users yet; read at start only");
  auto log_level = std::make_shared<std::string>("info");
  cmd->add_option("--log-level", *log_level, "Least severe messages logged")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))
      ->capture_default_str();

  const ConfigSources sources = add_config_sources(*cmd, "MINIDYNAMO");

  cmd->callback([cmd, sources, config, sync, compression, security, log_level, nodes, partitions] {
    apply_config_file(*cmd, sources);
    spdlog::set_level(spdlog::level::from_str(*log_level));
    config->nodes_given = nodes->count() > 0;
    config->partitions_given = partitions->count() > 0;
    auto policy = storage::parse_sync_policy(*sync);
    if (!policy.is_ok()) throw CLI::ValidationError("--sync", policy.status().message());
    config->storage.sync = *policy;
    config->compression = *compression == "auto";
    if (config->core.defaults.r > config->core.defaults.n || config->core.defaults.w > config->core.defaults.n ||
        config->core.defaults.n == 0 || config->core.defaults.r == 0 || config->core.defaults.w == 0) {
      throw CLI::ValidationError("--n/--r/--w", "need 1 <= R <= N and 1 <= W <= N");
    }
    const uint64_t grace = config->core.reaping.grace_ms;
    if (grace != 0 && grace <= config->core.request_timeout_ms + config->core.read_repair_window_ms) {
      throw CLI::ValidationError("--tombstone-grace-ms",
                                 "must exceed --timeout-ms plus --read-repair-window-ms (or be 0: never reap)");
    }
    const auto& tls = config->tls;
    if ((tls.certificate.empty() != tls.key.empty()) || (tls.certificate.empty() != tls.ca.empty())) {
      throw CLI::ValidationError("--tls-cert/--tls-key/--tls-ca", "give all three, or none (no TLS)");
    }
    config->security = *security == "on";
    if (config->security && !runtime::tls_on(*config)) {
      throw CLI::ValidationError("--security on", "needs --tls-cert, --tls-key and --tls-ca: credentials must not "
                                                  "travel in clear text (scripts/make-certs.sh makes them)");
    }
    if (!config->security && !config->admin_password_file.empty()) {
      throw CLI::ValidationError("--admin-password-file", "is read with --security on only");
    }
    if (sources.print_config->count() > 0) {
      std::fputs(config_file_text(*cmd).c_str(), stdout);
      return;
    }
    for (const auto& name : unknown_variables(*cmd, "MINIDYNAMO")) {
      spdlog::warn("{} is set but names no flag of `minidynamo node`: ignored", name);
    }
    runtime::Server server(*config);
    if (auto s = server.start(); !s.is_ok()) {
      spdlog::critical("cannot start: {}", s.message());
      throw CLI::RuntimeError(1);
    }
    tell_service_manager("READY=1\nSTATUS=serving");  // start() returns once the node serves with its ring
    boost::asio::io_context signals_io;
    boost::asio::signal_set signals(signals_io, SIGINT, SIGTERM, SIGHUP);
    std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& ec,
                                                                                int signal) {
      if (ec) return;
      if (signal == SIGHUP) {  // the certificate and key files again, for new connections
        server.reload_tls();
        return signals.async_wait(on_signal);
      }
      tell_service_manager("STOPPING=1\nSTATUS=finishing requests in flight");
      server.stop();
    };
    signals.async_wait(on_signal);
    std::thread signal_thread([&] { signals_io.run(); });
    server.run();
    signals_io.stop();
    signal_thread.join();
  });
}

}  // namespace md::cli
