#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "cli/check_command.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "check/history_checker.h"
#include "cli/check_nemesis.h"
#include "cli/client_commands.h"
#include "cli/latency_histogram.h"
#include "net/http_client.h"

namespace md::cli {
namespace {

using check::FinalRead;
using check::Operation;
using check::OpKind;
using check::Outcome;
using check::Version;
using Clock = std::chrono::steady_clock;
using verb = boost::beast::http::verb;

struct CheckOptions {
  std::vector<std::string> nodes = {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"};
  double duration_s = 60;
  uint32_t clients = 8;
  uint32_t keys = 20;
  uint32_t write_percent = 20;   // blind writes
  uint32_t delete_percent = 10;  // the rest are read-modify-writes
  uint32_t timeout_ms = 5000;
  double converge_timeout_s = 60;
  uint64_t seed = 0;  // 0: from the clock
  std::string key_prefix;  // default: check:<seed>:
  std::string start_cluster;
  std::vector<std::string> node_args;
  NemesisOptions nemesis;
};

std::atomic<bool> interrupted{false};  // SIGINT or SIGTERM: end the run early, stop the nodes started

extern "C" void on_interrupt(int) { interrupted = true; }

std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// A stored value as the workload wrote it, {"id": ..., "merged": [...]}; anything else is kept
// whole as the id, so that the checker reports it as a version nobody wrote.
Version parse_version(const rapidjson::Value& value) {
  Version v;
  if (!value.IsObject() || !value.HasMember("id") || !value["id"].IsString()) return {"not written by check: " + to_json(value), {}};
  v.id = value["id"].GetString();
  if (value.HasMember("merged") && value["merged"].IsArray()) {
    for (const auto& m : value["merged"].GetArray()) v.merged.push_back(m.IsString() ? m.GetString() : to_json(m));
  }
  return v;
}

struct ReadAnswer {
  bool answered = false;          // 200 or 404
  std::vector<Version> versions;  // none: not found
  std::string context;
  std::string error;              // when not answered
};

ReadAnswer parse_read(const Result<net::HttpResponse>& r) {
  ReadAnswer out;
  if (!r.is_ok()) {
    out.error = r.status().message();
    return out;
  }
  if (r->status != 200 && r->status != 404) {
    out.error = "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 200);
    return out;
  }
  rapidjson::Document doc;
  doc.Parse(r->body.c_str());
  if (doc.HasParseError() || !doc.IsObject()) {
    out.error = "an answer that is not a JSON object: " + r->body.substr(0, 200);
    return out;
  }
  out.answered = true;
  if (doc.HasMember("context") && doc["context"].IsString()) out.context = doc["context"].GetString();
  if (r->status == 404) return out;
  if (doc.HasMember("value")) out.versions.push_back(parse_version(doc["value"]));
  if (doc.HasMember("siblings") && doc["siblings"].IsArray()) {
    for (const auto& s : doc["siblings"].GetArray()) {
      if (s.IsObject() && s.HasMember("value")) out.versions.push_back(parse_version(s["value"]));
    }
  }
  return out;
}

// 200: acknowledged. Another 4xx: refused, it took no effect. Anything else (a 503, a 500, a
// timeout, a broken connection) may have taken effect, now or later: indeterminate.
Outcome outcome_of(const Result<net::HttpResponse>& r) {
  if (!r.is_ok()) return Outcome::indeterminate;
  if (r->status == 200) return Outcome::ok;
  return r->status >= 400 && r->status < 500 ? Outcome::failed : Outcome::indeterminate;
}

std::string detail_of(const Result<net::HttpResponse>& r) {
  if (!r.is_ok()) return r.status().message();
  return "HTTP " + std::to_string(r->status) + (r->status == 200 ? "" : ": " + r->body.substr(0, 300));
}

// The body of a write of version `id` that merges `merged` (the siblings its read saw) and, with
// the read's context, replaces them; or of a delete (no id).
std::string request_body(const std::optional<std::string>& id, const std::vector<Version>& merged,
                         const std::string& context) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  if (id) {
    w.Key("value");
    w.StartObject();
    w.Key("id");
    w.String(id->c_str());
    w.Key("merged");
    w.StartArray();
    for (const auto& v : merged) w.String(v.id.c_str());
    w.EndArray();
    w.EndObject();
  }
  if (!context.empty()) {
    w.Key("context");
    w.String(context.c_str());
  }
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

const char* kind_name(OpKind kind) {
  switch (kind) {
    case OpKind::write: return "write";
    case OpKind::update: return "update";
    case OpKind::remove: return "delete";
  }
  return "?";
}

const char* outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::ok: return "ok";
    case Outcome::failed: return "failed";
    case Outcome::indeterminate: return "indeterminate";
  }
  return "?";
}

std::string list(const std::vector<Version>& versions) {
  std::string text;
  for (const auto& v : versions) text += (text.empty() ? "" : ", ") + v.id;
  return "[" + text + "]";
}

class CheckRun {
 public:
  explicit CheckRun(CheckOptions o) : o_(std::move(o)) {
    for (const auto& node : o_.nodes) {
      auto address = parse_address(node);
      if (!address) throw CLI::ValidationError("--nodes", "'" + node + "' is not host:port");
      addresses_.push_back(*address);
    }
  }

  int run();

 private:
  double seconds(Clock::time_point t) const { return std::chrono::duration<double>(t - began_).count(); }
  std::string target(const std::string& key, std::string_view query = "") const {
    return "/kv/" + net::url_encode_path_segment(key) + std::string(query);
  }
  std::unique_ptr<net::HttpClient> connect(size_t node) const {
    return std::make_unique<net::HttpClient>(addresses_[node].first, addresses_[node].second, o_.timeout_ms);
  }
  void client(int index);
  void record(Operation op, Clock::time_point started);
  // Every node answers /health; with `cluster`, each of its processes must still run (a node that
  // exited, its port taken, would leave whatever else listens there to be checked).
  bool wait_healthy(double limit_s, LocalCluster* cluster);
  // Every key the workload touched, read through every node with R=1.
  std::map<std::string, std::vector<FinalRead>> read_everywhere();
  void print_operation(const Operation& op) const;
  void report(const std::vector<Fault>& faults, std::optional<double> converged_after_s,
              const std::map<std::string, std::vector<FinalRead>>& finals,
              const std::vector<check::Violation>& violations, double run_s) const;

  CheckOptions o_;
  std::vector<std::pair<std::string, uint16_t>> addresses_;
  Clock::time_point began_ = Clock::now();
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;  // guards what follows
  std::vector<Operation> history_;
  std::map<OpKind, LatencyHistogram> latency_;  // acknowledged operations, their read included
  uint64_t failed_reads_ = 0;                   // updates and deletes that ended at their read
};

void CheckRun::record(Operation op, Clock::time_point started) {
  const auto ended = Clock::now();
  op.end_s = seconds(ended);
  std::lock_guard lock(mutex_);
  if (op.outcome == Outcome::ok) {
    latency_[op.kind].record(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(ended - started).count()));
  }
  op.index = history_.size();
  history_.push_back(std::move(op));
}

void CheckRun::client(int index) {
  std::mt19937_64 rng(o_.seed * 1000003 + static_cast<uint64_t>(index));
  std::vector<std::unique_ptr<net::HttpClient>> connections(addresses_.size());
  for (uint64_t written = 0; !stopping_ && !interrupted;) {
    const size_t node = rng() % addresses_.size();
    if (!connections[node]) connections[node] = connect(node);
    auto& http = *connections[node];
    Operation op;
    op.client = index;
    op.key = o_.key_prefix + std::to_string(rng() % o_.keys);
    const auto dice = rng() % 100;
    op.kind = dice < o_.write_percent ? OpKind::write
              : dice < o_.write_percent + o_.delete_percent ? OpKind::remove
                                                             : OpKind::update;
    const auto started = Clock::now();
    op.start_s = seconds(started);
    std::string context;
    if (op.kind != OpKind::write) {
      auto read = parse_read(http.request(verb::get, target(op.key)));
      if (!read.answered) {
        std::lock_guard lock(mutex_);
        ++failed_reads_;
        continue;
      }
      if (op.kind == OpKind::remove && read.versions.empty()) continue;  // nothing to delete
      op.read = std::move(read.versions);
      context = std::move(read.context);
    }
    std::optional<std::string> id;
    if (op.kind != OpKind::remove) op.version = *(id = "c" + std::to_string(index) + "-" + std::to_string(++written));
    const auto body = request_body(id, op.read, context);
    const auto answer = http.request(op.kind == OpKind::remove ? verb::delete_ : verb::put, target(op.key), body);
    op.outcome = outcome_of(answer);
    op.detail = detail_of(answer);
    record(std::move(op), started);
  }
}

bool CheckRun::wait_healthy(double limit_s, LocalCluster* cluster) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(limit_s);
  for (size_t node = 0; node < addresses_.size(); ++node) {
    while (true) {
      if (cluster && cluster->exited(node)) {
        std::fprintf(stderr, "check: the node started for %s exited; its log: %s\n", o_.nodes[node].c_str(),
                     cluster->log_path(node).c_str());
        return false;
      }
      auto answer = net::HttpClient(addresses_[node].first, addresses_[node].second, 1000).request(verb::get, "/health");
      if (answer.is_ok() && answer->status == 200) break;
      if (Clock::now() > deadline || interrupted) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  return true;
}

std::map<std::string, std::vector<FinalRead>> CheckRun::read_everywhere() {
  std::set<std::string> keys;
  for (const auto& op : history_) keys.insert(op.key);
  std::vector<std::unique_ptr<net::HttpClient>> connections;
  for (size_t node = 0; node < addresses_.size(); ++node) connections.push_back(connect(node));
  std::map<std::string, std::vector<FinalRead>> finals;
  for (const auto& key : keys) {
    for (size_t node = 0; node < addresses_.size(); ++node) {
      auto read = parse_read(connections[node]->request(verb::get, target(key, "?R=1")));
      finals[key].push_back(FinalRead{o_.nodes[node], read.answered, std::move(read.versions), std::move(read.error)});
    }
  }
  return finals;
}

int CheckRun::run() {
  std::optional<LocalCluster> cluster;
  if (!o_.start_cluster.empty()) {
    cluster.emplace(o_.nodes, o_.start_cluster, o_.node_args);
    if (!wait_healthy(30, &*cluster)) {
      std::fprintf(stderr, "check: the nodes started in %s did not all answer /health within 30 s (logs there)\n",
                   o_.start_cluster.c_str());
      return 1;
    }
  }
  began_ = Clock::now();
  Nemesis nemesis(o_.nemesis, cluster ? &*cluster : nullptr, o_.seed);
  std::thread nemesis_thread;
  if (!o_.nemesis.faults.empty()) nemesis_thread = std::thread([&] { nemesis.run([&] { return seconds(Clock::now()); }); });
  std::vector<std::thread> clients;
  for (uint32_t c = 0; c < o_.clients; ++c) clients.emplace_back([this, c] { client(static_cast<int>(c)); });
  for (int tick = 1; !interrupted && seconds(Clock::now()) < o_.duration_s; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (tick % 20 != 0) continue;
    std::lock_guard lock(mutex_);
    std::fprintf(stderr, "\r%6.0f s  %8zu operations", seconds(Clock::now()), history_.size());
  }
  std::fprintf(stderr, "\n");
  // The faults stop (the nemesis heals what it did) as the clients stop.
  stopping_ = true;
  nemesis.stop();
  if (nemesis_thread.joinable()) nemesis_thread.join();
  for (auto& t : clients) t.join();
  const double run_s = seconds(Clock::now());

  // Every node answers every key alike within the bound, or the checker is told the last answers.
  const auto healed = Clock::now();
  std::optional<double> converged_after_s;
  std::map<std::string, std::vector<FinalRead>> finals;
  while (!interrupted) {
    finals = read_everywhere();
    if (std::all_of(finals.begin(), finals.end(), [](const auto& f) { return check::converged(f.second); })) {
      converged_after_s = std::chrono::duration<double>(Clock::now() - healed).count();
      break;
    }
    if (Clock::now() - healed > std::chrono::duration<double>(o_.converge_timeout_s)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const auto violations = check::check_history(history_, finals);
  report(nemesis.faults(), converged_after_s, finals, violations, run_s);
  const bool acknowledged = std::any_of(history_.begin(), history_.end(),
                                        [](const Operation& op) { return op.outcome == Outcome::ok; });
  if (!acknowledged) std::fprintf(stderr, "check: no operation was acknowledged; nothing was checked\n");
  if (interrupted) std::fprintf(stderr, "check: interrupted\n");
  return violations.empty() && acknowledged && !interrupted ? 0 : 1;
}

void CheckRun::print_operation(const Operation& op) const {
  std::printf("    #%llu client %d  %.3f-%.3f s  %s %s%s%s -> %s (%s)\n", static_cast<unsigned long long>(op.index),
              op.client, op.start_s, op.end_s, kind_name(op.kind), op.version.c_str(),
              op.kind == OpKind::write ? "" : op.version.empty() ? "read " : " read ",
              op.kind == OpKind::write ? "" : list(op.read).c_str(), outcome_name(op.outcome), op.detail.c_str());
}

void CheckRun::report(const std::vector<Fault>& faults, std::optional<double> converged_after_s,
                      const std::map<std::string, std::vector<FinalRead>>& finals,
                      const std::vector<check::Violation>& violations, double run_s) const {
  std::map<OpKind, std::map<Outcome, uint64_t>> counts;
  for (const auto& op : history_) ++counts[op.kind][op.outcome];
  std::printf("check: %zu nodes, %u clients, %u keys (prefix %s), %.1f s, seed %llu\n", o_.nodes.size(), o_.clients,
              o_.keys, o_.key_prefix.c_str(), run_s, static_cast<unsigned long long>(o_.seed));
  std::printf("operations   %zu recorded, and %llu updates or deletes that ended at a failed read\n", history_.size(),
              static_cast<unsigned long long>(failed_reads_));
  for (const auto& [kind, by_outcome] : counts) {
    std::printf("  %-7s", kind_name(kind));
    for (auto outcome : {Outcome::ok, Outcome::indeterminate, Outcome::failed}) {
      auto it = by_outcome.find(outcome);
      std::printf("  %s %llu", outcome_name(outcome),
                  static_cast<unsigned long long>(it == by_outcome.end() ? 0 : it->second));
    }
    auto h = latency_.find(kind);
    if (h != latency_.end()) {
      auto ms = [](uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
      std::printf("   latency ms p50 %.2f p99 %.2f max %.2f", ms(h->second.quantile(0.5)), ms(h->second.quantile(0.99)),
                  ms(h->second.max()));
    }
    std::printf("\n");
  }
  std::printf("faults       %zu\n", faults.size());
  for (const auto& f : faults) std::printf("  %7.1f-%7.1f s  %s\n", f.start_s, f.end_s, f.what.c_str());
  if (converged_after_s) {
    std::printf("convergence  every node answered all %zu keys alike %.1f s after the faults stopped\n", finals.size(),
                *converged_after_s);
  } else {
    std::printf("convergence  NOT within %.0f s after the faults stopped\n", o_.converge_timeout_s);
  }
  if (violations.empty()) {
    std::printf("violations   none\n");
    return;
  }
  std::printf("violations   %zu\n", violations.size());
  for (const auto& v : violations) {
    std::printf("  %s: key %s%s%s: %s\n", check::name(v.kind), v.key.c_str(), v.version.empty() ? "" : ", version ",
                v.version.c_str(), v.explanation.c_str());
    for (uint64_t i : v.operations) print_operation(history_[i]);
    if (auto it = finals.find(v.key); it != finals.end()) {
      for (const auto& r : it->second) {
        std::printf("    final read via %s: %s\n", r.node.c_str(), r.answered ? list(r.versions).c_str() : r.error.c_str());
      }
    }
  }
}

}  // namespace

void add_check_command(CLI::App& app) {
  auto o = std::make_shared<CheckOptions>();
  auto* cmd = app.add_subcommand("check", "Run a workload against a live cluster under faults and check the history for "
                                          "lost writes, dropped siblings, resurrected deletes and divergent replicas");
  cmd->add_option("--nodes", o->nodes, "The cluster's nodes, host:port, comma separated; clients spread over them")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "Seconds the workload (and the nemesis) runs")->capture_default_str();
  cmd->add_option("--clients", o->clients, "Concurrent clients")->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--keys", o->keys, "Keys the clients share (few keys: more concurrent writes, more siblings)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--write-percent", o->write_percent, "Blind writes of a unique value, percent of the operations")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--delete-percent", o->delete_percent,
                  "Deletes with a read's context, percent (the rest: read, merge the siblings, write back)")
      ->check(CLI::Range(0, 100))
      ->capture_default_str();
  cmd->add_option("--timeout-ms", o->timeout_ms, "A request that takes longer is indeterminate")
      ->check(CLI::Range(1u, 3600000u))
      ->capture_default_str();
  cmd->add_option("--converge-timeout", o->converge_timeout_s,
                  "Seconds after the faults stop within which every node must answer every key alike")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the workload and the nemesis (0: from the clock)")->capture_default_str();
  cmd->add_option("--key-prefix", o->key_prefix, "Prefix of the keys (default: check:<seed>:, fresh keys per run)");
  cmd->add_option("--start-cluster", o->start_cluster,
                  "Start the --nodes as local processes of this binary, data dirs and logs in this directory, and "
                  "stop them at the end (needed by the kill and pause faults)");
  cmd->add_option("--node-args", o->node_args,
                  "Extra flags for the nodes --start-cluster starts, as one string: "
                  "--node-args='--heartbeat-ms 100 --timeout-ms 1000'")
      ->delimiter(' ');
  cmd->add_option("--faults", o->nemesis.faults,
                  "Faults to inject, comma separated: kill (SIGKILL a node, restart it at the heal), pause (SIGSTOP, "
                  "SIGCONT at the heal), hook (--nemesis-hook)")
      ->delimiter(',')
      ->check(CLI::IsMember({"kill", "pause", "hook"}));
  cmd->add_option("--nemesis-hook", o->nemesis.hook,
                  "Shell command for the hook fault: run with `start` it injects a fault and prints what it did, with "
                  "`stop` it heals everything");
  cmd->add_option("--fault-interval", o->nemesis.interval_s, "Seconds between faults")->capture_default_str();
  cmd->add_option("--fault-duration", o->nemesis.duration_s, "Seconds a fault lasts")->capture_default_str();
  cmd->callback([o] {
    if (!(o->duration_s > 0)) throw CLI::ValidationError("--duration", "must be more than 0 seconds");
    if (!(o->converge_timeout_s >= 0)) throw CLI::ValidationError("--converge-timeout", "must not be negative");
    if (!(o->nemesis.interval_s > 0) || !(o->nemesis.duration_s > 0)) {
      throw CLI::ValidationError("--fault-interval/--fault-duration", "must be more than 0 seconds");
    }
    if (o->write_percent + o->delete_percent > 100) {
      throw CLI::ValidationError("--write-percent/--delete-percent", "must add up to at most 100");
    }
    for (const auto& fault : o->nemesis.faults) {
      if ((fault == "kill" || fault == "pause") && o->start_cluster.empty()) {
        throw CLI::ValidationError("--faults", fault + " needs --start-cluster: check kills and pauses only nodes it started");
      }
      if (fault == "hook" && o->nemesis.hook.empty()) throw CLI::ValidationError("--faults", "hook needs --nemesis-hook");
    }
    std::erase(o->node_args, std::string());  // runs of spaces in --node-args
    if (o->seed == 0) o->seed = static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007;
    if (o->key_prefix.empty()) o->key_prefix = "check:" + std::to_string(o->seed) + ":";
    interrupted = false;
    ::signal(SIGINT, on_interrupt);
    ::signal(SIGTERM, on_interrupt);
    int code = CheckRun(*o).run();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace md::cli
