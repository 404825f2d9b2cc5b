// A node's metrics for GET /metrics (docs/operations.md, "Monitoring", lists every family).
//
// Most figures already exist as counters of the node's parts (core::NodeCounters, the anti-entropy
// and reaper counters, the transports', the engine's) and are read at scrape time. What only the
// runtime sees is recorded here as it happens: request latency by protocol, operation and outcome,
// siblings returned, peer bytes by message kind, and the durable writer's commits. Recording never
// takes a lock (metrics.h).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "core/messages.h"
#include "core/node.h"
#include "net/client_call.h"
#include "net/http_server.h"
#include "net/peer_transport.h"
#include "net/resp_server.h"
#include "runtime/durable_writer.h"
#include "runtime/gate.h"
#include "runtime/metrics.h"
#include "storage/engine.h"

namespace md::runtime {

// How a client request ended, as the latency histograms label it.
enum class RequestOutcome : uint8_t {
  ok, not_found, conflict, too_many_siblings, quorum_failed, bad_request, error,
  unauthenticated, forbidden, rate_limited  // refused by the gate (--security on)
};
RequestOutcome outcome_of(core::Op op, const core::ClientResponse& response);

// What the runtime's parts report at a scrape, beside the core node.
struct MetricsSnapshot {
  std::vector<std::string> members;  // addresses, by member index
  net::PeerTransport::Counters peer;
  net::HttpServer::Counters http;
  net::RespServer::Counters resp;  // zeros with --resp-port 0
  Gate::Counters refused{};         // by the gate (--security on)
  storage::EngineStats storage;
  uint64_t bad_peer_messages = 0;
  uint64_t requests_in_flight = 0;  // client requests the core is working on
  uint64_t now_ms = 0;              // the core's clock, for phi
};

class NodeMetrics {
 public:
  NodeMetrics();

  // A client request answered after `seconds`.
  void request_done(net::Protocol protocol, core::Op op, RequestOutcome outcome, double seconds);
  // A GET answered with `count` siblings.
  void siblings_returned(size_t count) { siblings_.observe(static_cast<double>(count)); }
  // A peer message of kind `kind` (its index in core::PeerMessage), `bytes` long encoded.
  void peer_message_sent(size_t kind, size_t bytes) { add(sent_bytes_[kind], bytes); }
  void peer_message_received(size_t kind, size_t bytes) { add(received_bytes_[kind], bytes); }
  // A join refused: TLS is on and it came without a client certificate the cluster's CA signed.
  void join_refused() { add(joins_refused_, 1); }
  CommitMetrics& commits() { return commits_; }

  // The whole page. Reads the node's own counters, so it runs on the node's thread.
  std::string render(const core::Node& node, const MetricsSnapshot& snapshot) const;

 private:
  static constexpr size_t kOps = 4;  // get, put, delete, list: inspects (the dashboard's) are not counted
  static constexpr size_t kOutcomes = static_cast<size_t>(RequestOutcome::rate_limited) + 1;
  static constexpr size_t kKinds = std::variant_size_v<core::PeerMessage>;
  static void add(std::atomic<uint64_t>& counter, uint64_t n) { counter.fetch_add(n, std::memory_order_relaxed); }

  std::vector<Histogram> latency_;  // [(protocol * kOps + op) * kOutcomes + outcome]
  Histogram siblings_{{1, 2, 3, 5, 10, 20, 50, 100}};
  std::array<std::atomic<uint64_t>, kKinds> sent_bytes_{};
  std::array<std::atomic<uint64_t>, kKinds> received_bytes_{};
  std::atomic<uint64_t> joins_refused_{0};
  CommitMetrics commits_;
};

// This process's resident memory, open file descriptors, CPU seconds and start time (from /proc);
// written as the process_* families every Prometheus client library exports.
void write_process_metrics(PrometheusText& out);

}  // namespace md::runtime
