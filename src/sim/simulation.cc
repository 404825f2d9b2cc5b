#include "sim/simulation.h"

#include <algorithm>
#include <sstream>

#include "core/context_token.h"
#include "sim/checker.h"
#include "sim/history.h"

namespace md::sim {
namespace {

constexpr uint64_t kRequestTimeoutMs = 1000;
constexpr uint64_t kThinkMs = 50;          // a client's pause between operations, at most
constexpr uint64_t kFaultEveryMs = 100;    // typical time between fault actions
constexpr uint64_t kQuiesceMs = 3000;      // after the calm phase and the final reads: deadlines pass, repairs land
constexpr uint64_t kHandoffMs = 5000;      // after healing: deadlines pass, hints are handed off (with backoff)
constexpr uint64_t kAntiEntropyMs = 20000; // then: time for anti-entropy alone to converge the replicas
constexpr uint64_t kExchangeEveryMs = 50; // each node starts an anti-entropy exchange this often
constexpr uint64_t kMembershipMs = 30000;  // after healing: a change of membership must be complete by then
// Above the longest a message can take here (a delay's tail of 1 s, two slow nodes' 0.4 s each)
// plus the request deadline and the read-repair window, as core/tombstone_reaper.h requires.
constexpr uint64_t kTombstoneGraceMs = 5000;
constexpr uint64_t kReapEveryMs = 200;

// A simulated client: one operation at a time; a read-modify-write is a read then a write.
struct Client {
  size_t id = 0;
  uint64_t handle = 0;        // the request in flight, 0 when idle
  uint64_t ready_at_ms = 0;
  size_t op = 0;              // index into the history of the op in flight
  bool then_write = false;    // the read in flight is the first half of a read-modify-write
  bool then_delete = false;
  size_t writes = 0;
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options) : options_(options), rng_(options.seed ^ 0x5EED) {
    ClusterOptions c;
    c.nodes = options.nodes != 0 ? options.nodes : static_cast<size_t>(rng_.between(3, 5));
    c.partitions = 16;
    // One seed in three runs without zones, one with every node in one zone, one with nodes over
    // two zones: the claimant's ring then changes under the workload as it learns the zones.
    c.zones = static_cast<size_t>(options.seed % 3);
    c.node.request_timeout_ms = kRequestTimeoutMs;
    c.node.read_repair_window_ms = 200;
    c.node.anti_entropy.interval_ms = options.anti_entropy ? kExchangeEveryMs : 0;
    c.node.reaping.grace_ms = kTombstoneGraceMs;
    c.node.reaping.interval_ms = kReapEveryMs;
    c.seed = options.seed;
    c.trace = options.trace;
    c.sync = options.sync;
    c.buggy_merge = options.buggy_merge;
    c.buggy_handoff = options.buggy_handoff;
    c.buggy_actor_epochs = options.buggy_actor_epochs;
    c.buggy_reaping = options.buggy_reaping;
    c.buggy_dot_floor = options.buggy_dot_floor;
    c.buggy_ids = options.buggy_ids;
    c.buggy_early_ack = options.buggy_early_ack;
    c.node.buggy_colocated_hints = options.buggy_colocated_hints;
    // A join moves partitions while the workload runs: the newcomer is filled by transfers.
    if (options.faults.join && c.nodes >= 4 && rng_.chance(0.5)) {
      c.joiners = 1;
      join_at_ms_ = rng_.below(options.steps * 10);
    }
    // Else perhaps a departure, drawn apart so that the seeds without one keep their schedules.
    Rng membership(options.seed ^ 0xDE9A);
    std::vector<core::DepartureKind> kinds;
    if (options.faults.leave) kinds.push_back(core::DepartureKind::leave);
    if (options.faults.remove) kinds.push_back(core::DepartureKind::remove);
    if (options.faults.replace) kinds.push_back(core::DepartureKind::replace);
    if (!join_at_ms_ && c.nodes >= 4 && !kinds.empty() && membership.chance(0.5)) {
      departure_ = kinds[membership.below(kinds.size())];
      if (*departure_ == core::DepartureKind::replace) c.joiners = 1;
      departing_ = membership.below(c.nodes - c.joiners);
      departure_at_ms_ = membership.below(options.steps * 10);
    }
    cluster_ = std::make_unique<Cluster>(c);
    const size_t leaving = departure_ && *departure_ != core::DepartureKind::replace ? 1 : 0;
    n_max_ = std::min<uint32_t>(3, static_cast<uint32_t>(c.nodes - c.joiners - leaving));
    for (size_t i = 0; i < options.clients; ++i) clients_.push_back(Client{i, 0, rng_.below(kThinkMs), 0, false, false, 0});
  }

  SimResult run() {
    size_t fault_phase_ops = options_.steps;
    uint64_t next_fault = rng_.below(kFaultEveryMs);
    while (issued_ < fault_phase_ops) {
      if (cluster_->now_ms() >= next_fault) {
        inject_fault();
        next_fault = cluster_->now_ms() + rng_.long_tail(kFaultEveryMs, 4 * kFaultEveryMs);
      }
      step_clients(fault_phase_ops);
      if (join_at_ms_ && cluster_->now_ms() >= *join_at_ms_) {
        size_t joiner = cluster_->size() - 1;
        cluster_->join(joiner, rng_.below(joiner));
        join_at_ms_.reset();
        if (departure_ != core::DepartureKind::replace) ++result_.joins;
      }
      if (departure_at_ms_ && cluster_->now_ms() >= *departure_at_ms_) depart();
      if (handoff_crash_armed_) {
        crash_during(handoff_crash_armed_, result_.handoff_crashes, "handoff",
                     [](const core::Node& n) { return n.handoffs_in_flight(); });
      }
      if (aae_crash_armed_) {
        crash_during(aae_crash_armed_, result_.aae_crashes, "anti-entropy",
                     [](const core::Node& n) { return n.anti_entropy().exchange_peers(); });
      }
    }
    heal_everything();
    HealedState healed = observe_healed();
    check_anti_entropy_converges();  // before any further client operation
    calm_ = true;
    size_t calm_ops = issued_ + options_.steps / 4;
    while (issued_ < calm_ops) step_clients(calm_ops);
    while (std::any_of(clients_.begin(), clients_.end(), [](const Client& c) { return c.handle != 0; })) {
      step_clients(issued_);
    }
    cluster_->run_for(kQuiesceMs);
    FinalState final_state = converge();
    bool synced = options_.sync == DiskSync::always;
    auto violations = check_history(history_, cluster_->stored_writes(), final_state, synced);
    result_.violations.insert(result_.violations.end(), violations.begin(), violations.end());
    // A coordinator hands a write to its silent replicas within its deadline; one that crashed (or
    // whose disk failed, which may cost it the hint) before may leave a replica without it
    // (anti-entropy's job, not handoff's).
    auto crashes = cluster_->crashes();
    crashes.insert(crashes.end(), cluster_->disk_failures().begin(), cluster_->disk_failures().end());
    for (auto& v : check_healed(history_, cluster_->stored_writes(), healed, cluster_->ring(), crashes,
                                2 * kRequestTimeoutMs, synced)) {
      result_.violations.push_back(std::move(v));
    }
    // W counts distinct machines: with synced disks, an acknowledged write is on W of them.
    for (const auto& thin : synced ? cluster_->thin_acks() : std::vector<ThinAck>{}) {
      result_.violations.push_back("thin_ack: write " + thin.value + " of " + thin.key + " was acknowledged with W=" +
                                   std::to_string(thin.w) + " while " + std::to_string(thin.holders) +
                                   " nodes held it");
    }
    result_.disk_failures = cluster_->disk_failures().size();
    result_.trace_hash = cluster_->trace_hash();
    result_.trace = cluster_->trace();
    result_.nodes = cluster_->size();
    result_.operations = history_.size();
    result_.virtual_ms = cluster_->now_ms();
    result_.tombstones_reaped = cluster_->reaped().size();
    return result_;
  }

 private:
  std::string key(size_t i) const { return "key" + std::to_string(i); }

  // The departure drawn for this seed: a removed or replaced node is killed first (the operator
  // removes a node that is gone) and stays down until the faults heal; the replacement joins
  // after the replace is asked for. The request goes through a random member that is up; one
  // that cannot be reached now (partitioned off the claimant) gets there by gossip later.
  void depart() {
    departure_at_ms_.reset();
    const auto kind = *departure_;
    if (kind != core::DepartureKind::leave) {
      if (cluster_->is_up(departing_)) cluster_->crash(departing_);
      kept_down_ = departing_;
    }
    std::vector<size_t> via;
    for (size_t i = 0; i < cluster_->size(); ++i) {
      if (cluster_->is_member(i) && cluster_->is_up(i)) via.push_back(i);
    }
    if (via.empty()) {  // everyone is down for the moment: asked again after healing
      departure_at_ms_ = cluster_->now_ms();
      return;
    }
    const size_t joiner = cluster_->size() - 1;
    core::Departure d{kind, kind == core::DepartureKind::replace ? cluster_->address(joiner) : std::string()};
    const Status asked = cluster_->request_departure(via[rng_.below(via.size())], departing_, d);
    if (!asked.is_ok()) {
      result_.violations.push_back("departure_refused: " + asked.message());
      return;
    }
    switch (kind) {
      case core::DepartureKind::leave: ++result_.leaves; break;
      case core::DepartureKind::remove: ++result_.removes; break;
      case core::DepartureKind::replace:
        ++result_.replaces;
        join_at_ms_ = cluster_->now_ms() + rng_.below(1000);  // the new node is started after the request
        break;
    }
  }

  // A crash leaves at least one node up.
  void crash_if_allowed(size_t victim) {
    size_t down = 0;
    for (size_t i = 0; i < cluster_->size(); ++i) down += !cluster_->is_up(i);
    if (cluster_->is_up(victim) && down + 1 < cluster_->size()) cluster_->crash(victim);
  }

  // Armed by the schedule; fires at the first moment some node has work with peers under way
  // (`peers_of(node)` names them: a hint's owners, an anti-entropy exchange's other side), and
  // crashes that node or one of those peers.
  template <class PeersOf>
  void crash_during(bool& armed, size_t& count, const char* what, PeersOf peers_of) {
    for (size_t i = 0; i < cluster_->size(); ++i) {
      if (!cluster_->is_up(i)) continue;
      std::vector<core::MemberIndex> peers = peers_of(cluster_->node(i));
      if (peers.empty()) continue;
      armed = false;
      ++count;
      cluster_->note(std::string("crash during ") + what + " at n" + std::to_string(i));
      crash_if_allowed(rng_.chance(0.5) ? i : peers[rng_.below(peers.size())]);
      return;
    }
  }

  void inject_fault() {
    ++result_.faults_injected;
    const auto& f = options_.faults;
    size_t k = cluster_->size();
    switch (rng_.below(7)) {
      case 0: {
        // A crash at a random moment, or armed to hit a hint's delivery or an anti-entropy
        // exchange as soon as one is under way: each among the kinds switched on.
        std::vector<int> kinds;
        if (f.crash) kinds.push_back(0);
        if (f.handoff) kinds.push_back(1);
        if (f.aae) kinds.push_back(2);
        if (kinds.empty()) break;
        switch (kinds[rng_.below(kinds.size())]) {
          case 0: crash_if_allowed(rng_.below(k)); break;
          case 1: handoff_crash_armed_ = true; break;
          case 2: aae_crash_armed_ = true; break;
        }
        break;
      }
      case 1:
        for (size_t i = 0; i < k; ++i) {
          if (cluster_->is_member(i) && !cluster_->is_up(i) && kept_down_ != i) {
            cluster_->restart(i);
            break;
          }
        }
        break;
      case 2:
        if (f.partition || f.long_partition) {
          std::vector<int> group(k);
          for (auto& g : group) g = static_cast<int>(rng_.below(2));
          cluster_->partition(group);
          // A long one holds 3 to 8 s whatever else the schedule does: the failure detector
          // suspects the other side, and writes go to stand-ins meanwhile.
          if (f.long_partition && (!f.partition || rng_.chance(0.25))) {
            heal_not_before_ms_ = cluster_->now_ms() + rng_.between(3000, 8000);
            ++result_.long_partitions;
            cluster_->note("the partition holds until t=" + std::to_string(heal_not_before_ms_));
          }
        }
        break;
      case 3:
        if (cluster_->now_ms() >= heal_not_before_ms_) cluster_->heal();
        break;
      case 4: {
        NetworkFaults net;
        net.loss = f.loss ? rng_.unit() * 0.2 : 0;
        net.duplicate = f.duplicate ? rng_.unit() * 0.1 : 0;
        net.latency_ms = f.delay ? rng_.between(1, 20) : 1;
        net.latency_max_ms = f.delay ? net.latency_ms * 50 : net.latency_ms;
        cluster_->set_network(net);
        cluster_->note("network loss=" + std::to_string(net.loss) + " dup=" + std::to_string(net.duplicate) +
                       " latency=" + std::to_string(net.latency_ms));
        break;
      }
      case 5:
        if (f.slow) {
          size_t node = rng_.below(k);
          uint64_t extra = rng_.chance(0.5) ? rng_.between(50, 400) : 0;
          cluster_->set_slow(node, extra);
          cluster_->note("slow n" + std::to_string(node) + " +" + std::to_string(extra) + "ms");
        }
        break;
      case 6:
        if (f.disk) {
          // A disk that fails some operations, one that is full, or a disk well again.
          size_t node = rng_.below(k);
          DiskFaults disk;
          if (rng_.chance(0.15)) {
            disk.full = true;
          } else if (rng_.chance(0.7)) {
            disk.read_error = rng_.unit() * 0.1;
            disk.write_error = rng_.unit() * 0.1;
            disk.fsync_error = rng_.unit() * 0.1;
            disk.remove_error = rng_.unit() * 0.1;
          }
          if (disk.any()) ++result_.disk_faults;
          cluster_->set_disk_faults(node, disk);
          cluster_->note("disk n" + std::to_string(node) + (disk.full ? " full" : "") + " read_error=" +
                         std::to_string(disk.read_error) + " write_error=" + std::to_string(disk.write_error) +
                         " fsync_error=" + std::to_string(disk.fsync_error) +
                         " remove_error=" + std::to_string(disk.remove_error));
        }
        break;
    }
  }

  void heal_everything() {
    cluster_->heal();
    cluster_->set_network(NetworkFaults{});
    auto restart_all = [&] {
      for (size_t i = 0; i < cluster_->size(); ++i) {
        if (cluster_->is_member(i) && !cluster_->is_up(i)) cluster_->restart(i);
      }
    };
    for (size_t i = 0; i < cluster_->size(); ++i) {
      cluster_->set_slow(i, 0);
      cluster_->set_disk_faults(i, DiskFaults{});
    }
    restart_all();
    if (departure_at_ms_) {  // the fault phase ended first
      depart();
      restart_all();  // a removed or replaced node went down for it: it comes back, as after the faults
    }
    if (join_at_ms_) {
      cluster_->join(cluster_->size() - 1, 0);
      join_at_ms_.reset();
      if (departure_ != core::DepartureKind::replace) ++result_.joins;
    }
    // A change of membership under way completes once its transfers are done and the claimant
    // made the next owners serve, in the newest ring.
    const size_t last = cluster_->size() - 1;
    auto complete = [&] {
      if (cluster_->changing() || !cluster_->is_member(last)) return false;
      return !departure_ || cluster_->ring().departed(static_cast<core::MemberIndex>(departing_));
    };
    for (uint64_t waited = 0; !complete() && waited < kMembershipMs; waited += 100) cluster_->run_for(100);
    if (!complete()) {
      result_.violations.push_back("membership_change_not_completed: " +
                                   (departure_ ? "the " + std::string(core::to_string(*departure_)) + " of n" +
                                                     std::to_string(departing_)
                                               : "the join of n" + std::to_string(last)) +
                                   " is not done " + std::to_string(kMembershipMs) + " ms after healing");
    }
    cluster_->run_for(kHandoffMs);
  }

  // Every node's copy of every key and its pending hints, before any read could repair a thing.
  HealedState observe_healed() {
    HealedState healed;
    for (size_t n = 0; n < cluster_->size(); ++n) {
      if (!cluster_->is_member(n)) continue;  // a joiner never admitted (reported above) holds nothing
      uint64_t pending = 0;
      for (uint64_t count : cluster_->node(n).pending_hints()) pending += count;
      // What its disk still holds too: a hint the node could not read back is pending nowhere.
      healed.pending_hints.push_back(std::max<uint64_t>(pending, cluster_->hints_on_disk(n)));
      healed.reaped = cluster_->reaped();
      result_.hints_delivered += cluster_->node(n).counters().hints_delivered;
      result_.suspicions += cluster_->node(n).counters().suspicions;  // of the nodes' current lives
      for (size_t i = 0; i < options_.keys; ++i) {
        healed.per_node[key(i)].push_back(cluster_->stored(n, key(i)).value_or(core::DvvSet()));
      }
    }
    return healed;
  }

  void step_clients(size_t limit) {
    for (auto& c : clients_) {
      if (c.handle != 0) {
        if (auto response = cluster_->response(c.handle)) finish(c, *response);
      } else if (c.ready_at_ms <= cluster_->now_ms() && issued_ < limit) {
        begin(c);
      }
    }
    cluster_->run_for(1);
    // An unanswered request (its coordinator crashed) is indeterminate; the client moves on.
    for (auto& c : clients_) {
      if (c.handle != 0 && cluster_->now_ms() > history_[c.op].start_ms + 5000) {
        c.handle = 0;
        c.then_write = c.then_delete = false;
        c.ready_at_ms = cluster_->now_ms();
      }
    }
  }

  core::ClientRequest request_for(HistoryOp& op, const std::string& context) {
    core::ClientRequest r;
    r.op = op.kind == OpKind::read ? core::Op::get : op.kind == OpKind::remove ? core::Op::del : core::Op::put;
    r.key = op.key;
    r.value = op.value;
    if (!context.empty()) r.context_token = context;
    r.n = op.n;
    r.r = op.r;
    r.w = op.w;
    r.sloppy_quorum = op.sloppy;
    return r;
  }

  void submit(Client& c, HistoryOp op, const std::string& context) {
    op.start_ms = cluster_->now_ms();
    op.calm = calm_;
    auto request = request_for(op, context);
    history_.push_back(std::move(op));
    c.op = history_.size() - 1;
    size_t at = rng_.below(cluster_->size());
    c.handle = cluster_->submit(cluster_->is_member(at) ? at : 0, std::move(request));
  }

  HistoryOp new_op(const Client& c, OpKind kind, const std::string& key_name) {
    HistoryOp op;
    op.client = c.id;
    op.kind = kind;
    op.key = key_name;
    // Mostly N=3 (or the cluster size); sometimes smaller, with every R and W including R+W <= N.
    op.n = rng_.chance(0.8) ? n_max_ : static_cast<uint32_t>(rng_.between(1, n_max_));
    op.r = static_cast<uint32_t>(rng_.between(1, op.n));
    op.w = static_cast<uint32_t>(rng_.between(1, op.n));
    op.sloppy = rng_.chance(0.8);
    return op;
  }

  void begin(Client& c) {
    ++issued_;
    std::string k = key(rng_.below(options_.keys));
    uint64_t dice = rng_.below(100);
    if (dice < 30) {
      submit(c, new_op(c, OpKind::read, k), "");
    } else if (dice < 60 || dice >= 90) {  // read-modify-write, or read-then-delete
      c.then_write = dice < 60;
      c.then_delete = dice >= 90;
      submit(c, new_op(c, OpKind::read, k), "");
    } else if (dice < 80) {
      auto op = new_op(c, OpKind::blind_write, k);
      op.value = "\"c" + std::to_string(c.id) + "." + std::to_string(c.writes++) + "\"";
      submit(c, std::move(op), "");
    } else {
      submit(c, new_op(c, OpKind::remove, k), "");  // a delete without context
    }
  }

  void finish(Client& c, const core::ClientResponse& response) {
    auto& op = history_[c.op];
    op.end_ms = cluster_->now_ms();
    op.outcome = response.outcome;
    c.handle = 0;
    c.ready_at_ms = cluster_->now_ms() + rng_.below(kThinkMs);
    if (response.outcome == core::Outcome::unavailable) ++result_.unavailable;
    if (op.kind == OpKind::read) {
      if (!response.context_token.empty()) op.read_context = *core::decode_context_token(response.context_token);
      for (const auto& s : response.siblings) op.read_values.push_back(s.value);
      if (response.siblings.size() > 1) ++result_.conflicts_seen;
    } else if (response.outcome == core::Outcome::ok && op.kind != OpKind::remove) {
      ++result_.acknowledged_writes;
    }
    bool read_ok = op.kind == OpKind::read &&
                   (response.outcome == core::Outcome::ok || response.outcome == core::Outcome::not_found);
    if (read_ok && (c.then_write || c.then_delete)) {
      auto next = new_op(c, c.then_write ? OpKind::write : OpKind::remove, op.key);
      next.n = op.n;
      if (c.then_write) next.value = "\"c" + std::to_string(c.id) + "." + std::to_string(c.writes++) + "\"";
      c.then_write = c.then_delete = false;
      submit(c, std::move(next), response.context_token);
      return;
    }
    c.then_write = c.then_delete = false;
  }

  // Right after healing, with no client operation, anti-entropy alone must bring every key's
  // replicas to the same object. (Clients that were waiting when the faults healed may still
  // finish their requests meanwhile.)
  void check_anti_entropy_converges() {
    cluster_->run_for(kAntiEntropyMs);
    for (size_t i = 0; i < options_.keys; ++i) {
      const std::string k = key(i);
      auto replicas = cluster_->ring().preference_list(cluster_->ring().partition_of_key(k), n_max_);
      const auto reaped = reaped_context(cluster_->reaped(), k);
      auto kept = [&](core::MemberIndex m) { return unless_reaped(cluster_->stored(m, k).value_or(core::DvvSet()), reaped); };
      auto first = kept(replicas[0]);
      if (std::all_of(replicas.begin(), replicas.end(), [&](auto m) { return kept(m) == first; })) continue;
      result_.violations.push_back("not_converged_by_anti_entropy: replicas of " + k + " still differ " +
                                   std::to_string(kAntiEntropyMs) + " ms after healing, before any final read");
    }
  }

  // Reads every key with R=N, lets the repairs land, and collects what each replica holds.
  FinalState converge() {
    FinalState state;
    for (size_t i = 0; i < options_.keys; ++i) {
      core::ClientRequest r;
      r.key = key(i);
      r.n = n_max_;
      r.r = n_max_;
      auto answer = cluster_->await(cluster_->submit(0, r));
      if (!answer || (answer->outcome != core::Outcome::ok && answer->outcome != core::Outcome::not_found)) {
        result_.violations.push_back("divergent_replicas: the final read of " + r.key + " with R=N failed");
      }
    }
    cluster_->run_for(kQuiesceMs);
    for (size_t i = 0; i < options_.keys; ++i) {
      const std::string k = key(i);
      auto replicas = cluster_->ring().preference_list(cluster_->ring().partition_of_key(k), n_max_);
      core::DvvSet merged;
      for (auto m : replicas) {
        auto object = cluster_->stored(m, k).value_or(core::DvvSet());
        merged.merge(object);
        state.per_replica[k].push_back(std::move(object));
      }
      state.merged[k] = std::move(merged);
    }
    state.reaped = cluster_->reaped();
    check_listing(state);
    return state;
  }

  // A key listing at the end, page by page at a random page size: exactly the keys whose replicas
  // hold a live value, in order.
  void check_listing(const FinalState& state) {
    std::vector<std::string> expected;
    for (const auto& [k, merged] : state.merged) {
      if (!merged.deleted()) expected.push_back(k);
    }
    std::vector<std::string> listed;
    core::ClientRequest r;
    r.op = core::Op::list;
    r.n = n_max_;
    r.limit = 1 + static_cast<uint32_t>(rng_.below(8));
    for (size_t page = 0; page <= options_.keys; ++page) {
      auto answer = cluster_->await(cluster_->submit(0, r));
      if (!answer || answer->outcome != core::Outcome::ok) {
        result_.violations.push_back("listing_failed: page " + std::to_string(page) + " of the final key listing: " +
                                     (answer ? answer->message : "no answer"));
        return;
      }
      listed.insert(listed.end(), answer->keys.begin(), answer->keys.end());
      if (!answer->next_cursor) break;
      r.cursor = answer->next_cursor;
    }
    if (listed != expected) {
      auto [l, e] = std::mismatch(listed.begin(), listed.end(), expected.begin(), expected.end());
      result_.violations.push_back("listing_mismatch: the final key listing (pages of " + std::to_string(r.limit) +
                                   ") has " + std::to_string(listed.size()) + " keys, the replicas hold " +
                                   std::to_string(expected.size()) + " live ones; first difference: listed " +
                                   (l == listed.end() ? "nothing" : *l) + ", expected " +
                                   (e == expected.end() ? "nothing" : *e));
    }
  }

  SimOptions options_;
  Rng rng_;  // the workload's and the schedule's; the cluster has its own for the network
  std::unique_ptr<Cluster> cluster_;
  uint32_t n_max_ = 3;
  std::vector<Client> clients_;
  History history_;
  size_t issued_ = 0;
  bool calm_ = false;
  bool handoff_crash_armed_ = false;
  bool aae_crash_armed_ = false;
  uint64_t heal_not_before_ms_ = 0;  // a long partition holds until then
  std::optional<uint64_t> join_at_ms_;  // when the joiner asks to join, if it has not yet
  std::optional<core::DepartureKind> departure_;  // this seed's departure, if any
  size_t departing_ = 0;                          // of this member
  std::optional<uint64_t> departure_at_ms_;       // when it is asked for, if it has not been yet
  std::optional<size_t> kept_down_;               // a removed or replaced member: down until the faults heal
  SimResult result_;
};

}  // namespace

Result<FaultSet> parse_faults(const std::string& text) {
  if (text == "all") return FaultSet{};
  FaultSet f{false, false, false, false, false, false, false, false, false, false, false, false, false, false};
  if (text == "none") return f;
  std::stringstream in(text);
  std::string name;
  while (std::getline(in, name, ',')) {
    if (name == "loss") f.loss = true;
    else if (name == "duplicate") f.duplicate = true;
    else if (name == "delay") f.delay = true;
    else if (name == "partition") f.partition = true;
    else if (name == "crash") f.crash = true;
    else if (name == "slow") f.slow = true;
    else if (name == "handoff") f.handoff = true;
    else if (name == "aae") f.aae = true;
    else if (name == "long_partition") f.long_partition = true;
    else if (name == "join") f.join = true;
    else if (name == "disk") f.disk = true;
    else if (name == "leave") f.leave = true;
    else if (name == "remove") f.remove = true;
    else if (name == "replace") f.replace = true;
    else return Status::invalid_argument("unknown fault '" + name + "': use loss, duplicate, delay, partition, crash, slow, "
                                         "handoff, aae, long_partition, join, disk, leave, remove, replace, all or none");
  }
  return f;
}

std::string faults_to_string(const FaultSet& f) {
  std::string out;
  for (auto [on, name] : {std::pair{f.loss, "loss"}, std::pair{f.duplicate, "duplicate"}, std::pair{f.delay, "delay"},
                          std::pair{f.partition, "partition"}, std::pair{f.crash, "crash"}, std::pair{f.slow, "slow"},
                          std::pair{f.handoff, "handoff"}, std::pair{f.aae, "aae"},
                          std::pair{f.long_partition, "long_partition"}, std::pair{f.join, "join"},
                          std::pair{f.disk, "disk"}, std::pair{f.leave, "leave"}, std::pair{f.remove, "remove"},
                          std::pair{f.replace, "replace"}}) {
    if (on) out += (out.empty() ? "" : ",") + std::string(name);
  }
  return out.empty() ? "none" : out;
}

SimResult run_simulation(const SimOptions& options) { return Simulation(options).run(); }

std::string replay_command(const SimOptions& o) {
  std::string cmd = "build/bin/minidynamo sim --seed " + std::to_string(o.seed) + " --steps " + std::to_string(o.steps);
  if (o.nodes != 0) cmd += " --nodes " + std::to_string(o.nodes);
  cmd += " --faults " + faults_to_string(o.faults);
  if (o.sync == DiskSync::none) cmd += " --sync none";
  if (o.buggy_merge) cmd += " --buggy-merge";
  if (o.buggy_handoff) cmd += " --buggy-handoff";
  if (o.buggy_actor_epochs) cmd += " --buggy-actor-epochs";
  if (o.buggy_reaping) cmd += " --buggy-reaping";
  if (o.buggy_dot_floor) cmd += " --buggy-dot-floor";
  if (o.buggy_ids) cmd += " --buggy-ids";
  if (o.buggy_early_ack) cmd += " --buggy-early-ack";
  if (o.buggy_colocated_hints) cmd += " --buggy-colocated-hints";
  return cmd + " --trace";
}

}  // namespace md::sim
