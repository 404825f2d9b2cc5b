#include "runtime/node_metrics.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <tuple>

namespace md::runtime {
namespace {

constexpr const char* kOpNames[] = {"get", "put", "delete", "list"};
constexpr const char* kOutcomeNames[] = {"ok", "not_found", "conflict", "too_many_siblings", "quorum_failed",
                                         "bad_request", "error", "unauthenticated", "forbidden", "rate_limited"};

// A counter family of one sample.
void counter(PrometheusText& out, std::string_view name, std::string_view help, uint64_t value) {
  out.single(name, "counter", help, static_cast<double>(value));
}

void gauge(PrometheusText& out, std::string_view name, std::string_view help, double value) {
  out.single(name, "gauge", help, value);
}

}  // namespace

RequestOutcome outcome_of(core::Op op, const core::ClientResponse& response) {
  switch (response.outcome) {
    case core::Outcome::ok:
      return op == core::Op::get && response.siblings.size() > 1 ? RequestOutcome::conflict : RequestOutcome::ok;
    case core::Outcome::not_found: return RequestOutcome::not_found;
    case core::Outcome::bad_request: return RequestOutcome::bad_request;
    case core::Outcome::too_many_siblings: return RequestOutcome::too_many_siblings;
    case core::Outcome::unavailable: return RequestOutcome::quorum_failed;
    case core::Outcome::internal_error: return RequestOutcome::error;
    case core::Outcome::unauthenticated: return RequestOutcome::unauthenticated;
    case core::Outcome::forbidden: return RequestOutcome::forbidden;
    case core::Outcome::rate_limited: return RequestOutcome::rate_limited;
  }
  return RequestOutcome::error;
}

NodeMetrics::NodeMetrics() : latency_(net::kProtocols * kOps * kOutcomes, Histogram(Histogram::latency_seconds())) {
  static_assert(std::size(kOutcomeNames) == kOutcomes, "a name per request outcome");
}

void NodeMetrics::request_done(net::Protocol protocol, core::Op op, RequestOutcome outcome, double seconds) {
  const auto o = static_cast<size_t>(op);
  if (o >= kOps) return;  // an inspect: the dashboard's, not a client's
  latency_[(static_cast<size_t>(protocol) * kOps + o) * kOutcomes + static_cast<size_t>(outcome)].observe(seconds);
}

std::string NodeMetrics::render(const core::Node& node, const MetricsSnapshot& s) const {
  PrometheusText out;
  const auto& state = node.cluster_state();
  const auto self = node.self();
  auto zone = state.zones.find(node.ring().members()[self]);
  out.family("minidynamo_node_info", "gauge", "This node: its id, address and zone (the value is always 1)");
  out.sample("minidynamo_node_info",
             {{"node_id", node.node_id()}, {"address", s.members[self]},
              {"zone", zone == state.zones.end() ? std::string_view() : std::string_view(zone->second)}},
             1);

  // Requests.
  out.family("minidynamo_request_duration_seconds", "histogram",
             "Client requests by protocol, operation and outcome: time from the request read whole to its answer");
  for (size_t protocol = 0; protocol < net::kProtocols; ++protocol) {
    for (size_t op = 0; op < kOps; ++op) {
      for (size_t outcome = 0; outcome < kOutcomes; ++outcome) {
        const auto& h = latency_[(protocol * kOps + op) * kOutcomes + outcome];
        if (h.empty()) continue;  // series appear with their first request
        h.write(out, "minidynamo_request_duration_seconds",
                {{"protocol", net::to_string(static_cast<net::Protocol>(protocol))},
                 {"op", kOpNames[op]},
                 {"outcome", kOutcomeNames[outcome]}});
      }
    }
  }
  gauge(out, "minidynamo_requests_in_flight", "Client requests this node is coordinating or forwarding now",
        static_cast<double>(s.requests_in_flight));
  out.family("minidynamo_siblings_returned", "histogram", "Siblings in the answers to reads that found the key");
  siblings_.write(out, "minidynamo_siblings_returned", {});
  const auto c = node.counters();
  counter(out, "minidynamo_client_requests_total", "Client requests this node received", c.client_requests);
  counter(out, "minidynamo_forwarded_requests_total", "Requests forwarded to a replica to coordinate", c.forwarded);
  counter(out, "minidynamo_quorum_failures_total", "Requests answered 503: R or W not reached", c.quorum_failures);
  counter(out, "minidynamo_read_repairs_total", "Replica copies repaired after reads", c.read_repairs);
  counter(out, "minidynamo_blind_writes_total", "Writes without a context (each may add a sibling)", c.blind_writes);
  counter(out, "minidynamo_replica_writes_total", "Writes and repairs from other coordinators applied here",
          c.replica_writes);
  counter(out, "minidynamo_replica_reads_total", "Reads served to other coordinators", c.replica_reads);
  counter(out, "minidynamo_dot_collisions_total", "Replica merges that met a dot held with other contents",
          c.dot_collisions);

  // Peers.
  out.family("minidynamo_peer_phi", "gauge", "The failure detector's suspicion of each peer (suspect at --phi-threshold)");
  for (core::MemberIndex m = 0; m < s.members.size(); ++m) {
    if (m != self) out.sample("minidynamo_peer_phi", {{"peer", s.members[m]}}, node.peer_phi(m, s.now_ms));
  }
  out.family("minidynamo_peer_status", "gauge", "Each peer's status as this node sees it: 1 for the current one");
  for (core::MemberIndex m = 0; m < s.members.size(); ++m) {
    if (m == self) continue;
    for (auto status : {core::PeerStatus::up, core::PeerStatus::suspect, core::PeerStatus::down}) {
      out.sample("minidynamo_peer_status", {{"peer", s.members[m]}, {"status", core::to_string(status)}},
                 node.peer_status(m) == status ? 1 : 0);
    }
  }
  counter(out, "minidynamo_peer_suspicions_total", "Times a peer turned suspect (its heartbeats stopped)", c.suspicions);
  counter(out, "minidynamo_peer_frames_sent_total", "Peer frames written whole", s.peer.frames_sent);
  counter(out, "minidynamo_peer_frames_received_total", "Peer frames received", s.peer.frames_received);
  counter(out, "minidynamo_peer_sent_bytes_total", "Bytes written to peer connections", s.peer.bytes_sent);
  counter(out, "minidynamo_peer_received_bytes_total", "Bytes read from peer connections", s.peer.bytes_received);
  counter(out, "minidynamo_peer_dropped_sends_total",
          "Peer messages not sent: the peer down, its queue full, or the message over the frame limit",
          s.peer.dropped_sends);
  counter(out, "minidynamo_bad_peer_messages_total", "Peer frames that did not decode (dropped)", s.bad_peer_messages);
  out.family("minidynamo_peer_connections_closed_total", "counter", "Peer connections closed, by reason");
  for (auto [reason, value] : {std::pair{"bad_frame", s.peer.closed_bad_frame},
                               std::pair{"bad_handshake", s.peer.closed_bad_handshake},
                               std::pair{"hung", s.peer.closed_hung}, std::pair{"oversized", s.peer.closed_oversized},
                               std::pair{"incoming_eof", s.peer.closed_incoming_eof},
                               std::pair{"outgoing_lost", s.peer.closed_outgoing_lost},
                               std::pair{"over_limit", s.peer.closed_over_limit}}) {
    out.sample("minidynamo_peer_connections_closed_total", {{"reason", reason}}, static_cast<double>(value));
  }
  out.family("minidynamo_peer_tls_refused_total", "counter",
             "Peer connections whose TLS handshake failed (clear text, no certificate or one the cluster's CA did not "
             "sign, too slow), by direction: incoming ones this node refused, outgoing ones refused or not trusted");
  out.sample("minidynamo_peer_tls_refused_total", {{"direction", "incoming"}},
             static_cast<double>(s.peer.tls_refused_incoming));
  out.sample("minidynamo_peer_tls_refused_total", {{"direction", "outgoing"}},
             static_cast<double>(s.peer.tls_refused_outgoing));
  counter(out, "minidynamo_joins_refused_total",
          "Join requests refused (403): TLS is on and they came without a client certificate the cluster's CA signed",
          joins_refused_.load(std::memory_order_relaxed));
  for (auto [name, help, bytes] :
       {std::tuple{"minidynamo_peer_message_sent_bytes_total", "Encoded peer messages sent, by kind", &sent_bytes_},
        std::tuple{"minidynamo_peer_message_received_bytes_total", "Encoded peer messages received, by kind",
                   &received_bytes_}}) {
    out.family(name, "counter", help);
    for (size_t kind = 0; kind < kKinds; ++kind) {
      out.sample(name, {{"kind", core::kPeerMessageNames[kind]}},
                 static_cast<double>((*bytes)[kind].load(std::memory_order_relaxed)));
    }
  }

  // Hinted handoff.
  uint64_t pending = 0;
  for (uint64_t n : node.pending_hints()) pending += n;
  counter(out, "minidynamo_hints_stored_total", "Writes kept as hints for a down or silent replica", c.hints_stored);
  gauge(out, "minidynamo_hints_pending", "Hints held here, waiting to be handed off", static_cast<double>(pending));
  counter(out, "minidynamo_hints_delivered_total", "Hints their owner acknowledged", c.hints_delivered);
  counter(out, "minidynamo_hints_refused_total", "Hinted writes refused: --max-hints reached", c.hints_refused);
  counter(out, "minidynamo_handoff_failures_total", "Hint deliveries that failed or timed out (retried)",
          c.handoff_failures);

  // Anti-entropy.
  const auto& a = node.anti_entropy().counters();
  counter(out, "minidynamo_aae_exchanges_total", "Merkle-tree exchanges this node started", a.exchanges);
  counter(out, "minidynamo_aae_exchanges_in_sync_total", "Exchanges that found the trees equal", a.exchanges_in_sync);
  counter(out, "minidynamo_aae_segments_differing_total", "Tree segments found different", a.segments_differing);
  counter(out, "minidynamo_aae_objects_repaired_total", "Objects sent to a replica that lacked them or differed",
          a.objects_sent);
  uint64_t aae_bytes = 0;
  for (size_t kind = 0; kind < kKinds; ++kind) {
    if (std::string_view(core::kPeerMessageNames[kind]).starts_with("aae_")) {
      aae_bytes += sent_bytes_[kind].load(std::memory_order_relaxed) + received_bytes_[kind].load(std::memory_order_relaxed);
    }
  }
  counter(out, "minidynamo_aae_exchanged_bytes_total", "Anti-entropy messages sent and received, encoded", aae_bytes);

  // Membership and tombstones.
  counter(out, "minidynamo_gossip_rounds_total", "Cluster states sent to a random member", c.gossip_rounds);
  counter(out, "minidynamo_gossip_refused_total", "Cluster states refused (another cluster, or invalid)", c.gossip_refused);
  gauge(out, "minidynamo_ring_version", "The version of the ring this node serves by", static_cast<double>(state.ring_version));
  counter(out, "minidynamo_ring_changes_total", "Newer ring versions adopted", c.ring_changes);
  gauge(out, "minidynamo_cluster_members", "Members of the ring, departed ones included", static_cast<double>(s.members.size()));
  gauge(out, "minidynamo_cluster_serving_members", "Members that own partitions",
        static_cast<double>(node.ring().serving()));
  const auto pending_transfers =
      std::count_if(state.transfers.begin(), state.transfers.end(), [](const core::Transfer& t) { return !t.done; });
  gauge(out, "minidynamo_transfers_pending", "Partition transfers of the change of owners under way, not done yet",
        static_cast<double>(pending_transfers));
  counter(out, "minidynamo_transfer_keys_sent_total", "Keys this node sent in partition transfers, acknowledged",
          c.keys_sent);
  counter(out, "minidynamo_transfer_keys_received_total", "Keys this node stored from partition transfers",
          c.keys_received);
  counter(out, "minidynamo_transfer_batches_resent_total",
          "Transfer batches read and sent again (unacknowledged, refused, or the receiver went down)", c.batches_resent);
  counter(out, "minidynamo_transfers_done_total", "Partition transfers this node finished as their source",
          c.transfers_done);
  gauge(out, "minidynamo_tombstones", "Deleted keys held here, waiting to be reaped",
        static_cast<double>(node.reaper().tombstones()));
  counter(out, "minidynamo_tombstones_reaped_total", "Tombstones removed from this node's store", c.tombstones_reaped);

  // Storage.
  gauge(out, "minidynamo_storage_keys", "Keys in the engine (RocksDB's estimate; hints and tombstones included)",
        static_cast<double>(s.storage.keys_estimate));
  gauge(out, "minidynamo_storage_bytes", "Bytes of the engine's files on disk", static_cast<double>(s.storage.bytes_on_disk));
  counter(out, "minidynamo_storage_compactions_total", "Compactions completed since start", s.storage.compactions);
  counter(out, "minidynamo_row_cache_hits_total", "Engine reads answered by the row cache", s.storage.row_cache_hits);
  counter(out, "minidynamo_row_cache_misses_total", "Engine reads that went to RocksDB", s.storage.row_cache_misses);
  out.family("minidynamo_commit_duration_seconds", "histogram",
             "Group commits (--sync always): one engine write and its fsync");
  commits_.seconds.write(out, "minidynamo_commit_duration_seconds", {});
  out.family("minidynamo_commit_writes", "histogram", "Writes per group commit (--sync always)");
  commits_.writes.write(out, "minidynamo_commit_writes", {});

  // The HTTP front end and the process.
  gauge(out, "minidynamo_http_connections_open", "Client HTTP connections open", static_cast<double>(s.http.connections_open));
  counter(out, "minidynamo_http_requests_total", "HTTP requests read, every route", s.http.requests);
  counter(out, "minidynamo_http_tls_handshakes_failed_total",
          "HTTP connections closed at a failed TLS handshake (clear text, a client that does not trust the CA)",
          s.http.tls_handshakes_failed);
  gauge(out, "minidynamo_resp_connections_open", "Client RESP connections open", static_cast<double>(s.resp.connections_open));
  counter(out, "minidynamo_resp_commands_total", "RESP commands read, every command", s.resp.commands);
  counter(out, "minidynamo_resp_error_replies_total",
          "RESP commands answered with an error (unknown command, bad arguments, a failed request)", s.resp.error_replies);
  counter(out, "minidynamo_resp_protocol_errors_total", "RESP connections closed for bytes that are not RESP",
          s.resp.protocol_errors);
  counter(out, "minidynamo_resp_connections_timed_out_total",
          "RESP connections closed idle, with a command half-sent, or not reading their replies", s.resp.closed_timeout);
  counter(out, "minidynamo_resp_tls_handshakes_failed_total",
          "RESP connections closed at a failed TLS handshake (clear text, a client that does not trust the CA)",
          s.resp.tls_handshakes_failed);
  out.family("minidynamo_auth_refused_total", "counter",
             "Client requests and AUTHs the gate refused (--security on), by protocol and reason: no or wrong "
             "credentials, rate-limited after failed attempts, or no grant");
  for (size_t protocol = 0; protocol < net::kProtocols; ++protocol) {
    for (size_t reason = 0; reason < Gate::kRefusals; ++reason) {
      out.sample("minidynamo_auth_refused_total",
                 {{"protocol", net::to_string(static_cast<net::Protocol>(protocol))},
                  {"reason", Gate::kRefusalNames[reason]}},
                 static_cast<double>(s.refused[protocol][reason]));
    }
  }
  write_process_metrics(out);
  return out.take();
}

void write_process_metrics(PrometheusText& out) {
  // /proc/self/stat: the name (field 2) is in parentheses and may hold spaces, so fields are
  // counted from its end: f[k - 3] is field k (proc(5)).
  std::ifstream stat_file("/proc/self/stat");
  const std::string stat((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  std::vector<std::string> f;
  if (auto close = stat.rfind(')'); close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 1));
    for (std::string field; fields >> field;) f.push_back(field);
  }
  std::ifstream proc_stat("/proc/stat");
  double boot_time = 0;
  for (std::string line; std::getline(proc_stat, line);) {
    if (line.starts_with("btime ")) boot_time = std::stod(line.substr(6));
  }
  const auto ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (f.size() > 21) {
    out.single("process_cpu_seconds_total", "counter", "User and system CPU time spent, in seconds",
               (std::stod(f[11]) + std::stod(f[12])) / ticks);
    out.single("process_start_time_seconds", "gauge", "Start time of the process since the Unix epoch, in seconds",
               boot_time + std::stod(f[19]) / ticks);
    out.single("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes", std::stod(f[20]));
    out.single("process_resident_memory_bytes", "gauge", "Resident memory size in bytes",
               std::stod(f[21]) * static_cast<double>(sysconf(_SC_PAGESIZE)));
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  out.single("process_open_fds", "gauge", "Open file descriptors", fds);
  if (rlimit limit{}; getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    out.single("process_max_fds", "gauge", "The limit of open file descriptors", static_cast<double>(limit.rlim_cur));
  }
}

}  // namespace md::runtime
