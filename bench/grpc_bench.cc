// grpc_bench: a gRPC load generator for a running cluster (minidynamo.v1.KeyValue), the
// counterpart of `minidynamo bench` for the HTTP API, measured beside it by bench/grpc.sh.
//
// Like the HTTP bench it keeps --in-flight calls going over --connections connections (gRPC
// channels of their own, spread over --nodes), writes 100-byte letter values by default, and
// updates as a real client does: with the context of the key's last read or write, reading first
// when none is known. Read workloads first write every key once (the preload). All completions
// are handled on one thread (a completion queue), as the HTTP bench runs on one io thread.
// Prints one JSON object: throughput and latency percentiles of the operations that succeeded,
// and the failures by status code.
#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "cli/latency_histogram.h"
#include "cli/value_generator.h"
#include "minidynamo/v1/kv.grpc.pb.h"
#include "net/json_bytes.h"

namespace {

namespace v1 = ::minidynamo::v1;
using Clock = std::chrono::steady_clock;

struct Options {
  std::vector<std::string> nodes = {"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003"};
  std::string workload = "mixed";  // write, read, mixed (50/50), read-heavy (95/5)
  uint32_t connections = 8;
  uint32_t in_flight = 64;
  double duration_s = 10;
  uint64_t keys = 10000;
  uint32_t value_bytes = 100;
  std::optional<int> n, r, w;
  std::string key_prefix = "grpc:";
  uint64_t seed = 1;
  uint32_t timeout_ms = 5000;
};

// One call slot: at most one call in flight; an update may take two (a read, then the write).
struct Slot {
  enum class Step { preload_put, get, put, update_get } step = Step::get;
  uint64_t key = 0;
  Clock::time_point started;
  std::unique_ptr<grpc::ClientContext> context;
  grpc::Status status;
  v1::GetResponse got;
  v1::PutResponse put;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::GetResponse>> get_reader;
  std::unique_ptr<grpc::ClientAsyncResponseReader<v1::PutResponse>> put_reader;
  v1::KeyValue::Stub* stub = nullptr;
};

class Bench {
 public:
  explicit Bench(Options o) : o_(std::move(o)), rng_(o_.seed) {
    for (uint32_t c = 0; c < o_.connections; ++c) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own per channel
      stubs_.push_back(v1::KeyValue::NewStub(grpc::CreateCustomChannel(
          o_.nodes[c % o_.nodes.size()], grpc::InsecureChannelCredentials(), args)));
    }
  }

  int run() {
    if (o_.workload != "write") {
      const double took = phase(true, o_.duration_s);
      if (preloaded_ < o_.keys) {
        std::fprintf(stderr, "grpc_bench: the preload wrote %llu of %llu keys in %.1f s\n",
                     static_cast<unsigned long long>(preloaded_), static_cast<unsigned long long>(o_.keys), took);
        return 1;
      }
    }
    const double seconds = phase(false, o_.duration_s);
    report(seconds);
    return latency_.count() == 0 ? 1 : 0;
  }

 private:
  // Runs every slot until `limit_s` passed (or the preload handed out every key); returns seconds.
  double phase(bool preload, double limit_s) {
    preload_ = preload;
    const auto started = Clock::now();
    deadline_ = started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(limit_s));
    std::vector<Slot> slots(o_.in_flight);
    size_t busy = 0;
    for (size_t i = 0; i < slots.size(); ++i) {
      slots[i].stub = stubs_[i % stubs_.size()].get();
      busy += next(slots[i]);
    }
    void* tag = nullptr;
    bool ok = false;
    while (busy > 0 && cq_.Next(&tag, &ok)) {
      auto& slot = *static_cast<Slot*>(tag);
      if (!completed(slot)) busy -= !next(slot);  // done with this operation: the slot takes another
    }
    return std::chrono::duration<double>(Clock::now() - started).count();
  }

  // Starts the slot's next operation; false when the phase is over.
  bool next(Slot& slot) {
    if (Clock::now() >= deadline_ || (preload_ && next_preload_ >= o_.keys)) return false;
    slot.started = Clock::now();
    if (preload_) {
      slot.key = next_preload_++;
      start_put(slot, Slot::Step::preload_put);
      return true;
    }
    const int read_percent = o_.workload == "read" ? 100 : o_.workload == "write" ? 0 : o_.workload == "mixed" ? 50 : 95;
    slot.key = std::uniform_int_distribution<uint64_t>(0, o_.keys - 1)(rng_);
    if (std::uniform_int_distribution<int>(0, 99)(rng_) < read_percent) {
      start_get(slot, Slot::Step::get);
    } else if (contexts_.contains(slot.key)) {
      start_put(slot, Slot::Step::put);
    } else {
      start_get(slot, Slot::Step::update_get);  // an update reads first when it knows no context
    }
    return true;
  }

  std::unique_ptr<grpc::ClientContext> fresh_context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(o_.timeout_ms));
    return context;
  }
  std::string key(uint64_t i) const { return o_.key_prefix + std::to_string(i); }

  void start_get(Slot& slot, Slot::Step step) {
    slot.step = step;
    slot.context = fresh_context();
    v1::GetRequest request;
    request.set_key(key(slot.key));
    if (o_.n) request.set_n(*o_.n);
    if (o_.r) request.set_r(*o_.r);
    slot.get_reader = slot.stub->AsyncGet(slot.context.get(), request, &cq_);
    slot.get_reader->Finish(&slot.got, &slot.status, &slot);
  }
  void start_put(Slot& slot, Slot::Step step) {
    slot.step = step;
    slot.context = fresh_context();
    v1::PutRequest request;
    request.set_key(key(slot.key));
    // The same stored JSON as the HTTP bench's: its letters, as a JSON string.
    request.set_value(md::net::json_to_bytes(md::cli::make_value(md::cli::ValueKind::letters, o_.value_bytes, rng_)));
    if (auto it = contexts_.find(slot.key); it != contexts_.end()) request.set_context(it->second);
    if (o_.n) request.set_n(*o_.n);
    if (o_.w) request.set_w(*o_.w);
    slot.put_reader = slot.stub->AsyncPut(slot.context.get(), request, &cq_);
    slot.put_reader->Finish(&slot.put, &slot.status, &slot);
  }

  // Handles a finished call; true when the operation goes on with another call (an update's write).
  bool completed(Slot& slot) {
    const auto code = slot.status.error_code();
    const bool is_get = slot.step == Slot::Step::get || slot.step == Slot::Step::update_get;
    if (code == grpc::StatusCode::OK) contexts_[slot.key] = is_get ? slot.got.context() : slot.put.context();
    if (slot.step == Slot::Step::update_get && (code == grpc::StatusCode::OK || code == grpc::StatusCode::NOT_FOUND)) {
      start_put(slot, Slot::Step::put);
      return true;
    }
    const bool ok = code == grpc::StatusCode::OK || (slot.step == Slot::Step::get && code == grpc::StatusCode::NOT_FOUND);
    if (!ok) {
      ++errors_[std::to_string(static_cast<int>(code)) + " " + slot.status.error_message().substr(0, 60)];
    } else if (preload_) {
      ++preloaded_;
    } else {
      latency_.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - slot.started).count()));
      ++(is_get ? reads_ : writes_);
    }
    return false;
  }

  void report(double seconds) {
    auto ms = [](uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
    const auto& h = latency_;
    std::printf("{\"protocol\":\"grpc\",\"workload\":\"%s\",\"connections\":%u,\"in_flight\":%u,\"seconds\":%.6f,"
                "\"operations\":%llu,\"reads\":%llu,\"writes\":%llu,\"ops_per_second\":%.1f,\"latency_ms\":{"
                "\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"errors\":{",
                o_.workload.c_str(), o_.connections, o_.in_flight, seconds, static_cast<unsigned long long>(h.count()),
                static_cast<unsigned long long>(reads_), static_cast<unsigned long long>(writes_),
                static_cast<double>(h.count()) / seconds, ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
    bool first = true;
    for (const auto& [kind, count] : errors_) {
      std::printf("%s\"%s\":%llu", first ? "" : ",", kind.c_str(), static_cast<unsigned long long>(count));
      first = false;
    }
    std::printf("}}\n");
  }

  Options o_;
  std::mt19937_64 rng_;
  std::vector<std::unique_ptr<v1::KeyValue::Stub>> stubs_;
  grpc::CompletionQueue cq_;
  bool preload_ = false;
  Clock::time_point deadline_;
  uint64_t next_preload_ = 0, preloaded_ = 0, reads_ = 0, writes_ = 0;
  std::unordered_map<uint64_t, std::string> contexts_;  // the last context seen, by key index
  md::cli::LatencyHistogram latency_;
  std::map<std::string, uint64_t> errors_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Load a running Mini Dynamo cluster over gRPC and print throughput and latency as JSON");
  Options o;
  app.add_option("--nodes", o.nodes, "Target nodes' gRPC addresses host:port, comma separated")->delimiter(',');
  app.add_option("--workload", o.workload, "write, read, mixed (50/50) or read-heavy (95/5)")
      ->check(CLI::IsMember({"write", "read", "mixed", "read-heavy"}));
  app.add_option("--connections", o.connections, "gRPC channels, each its own connection")->check(CLI::Range(1, 1000));
  app.add_option("--in-flight", o.in_flight, "Calls kept in flight over all connections")->check(CLI::Range(1, 10000));
  app.add_option("--duration", o.duration_s, "Seconds to measure");
  app.add_option("--keys", o.keys, "Key count")->check(CLI::Range(1, 1 << 30));
  app.add_option("--value-bytes", o.value_bytes, "Value size");
  app.add_option("--n", o.n, "N per request");
  app.add_option("--r", o.r, "R per request");
  app.add_option("--w", o.w, "W per request");
  app.add_option("--key-prefix", o.key_prefix, "Prefix of the benchmark's keys");
  app.add_option("--timeout-ms", o.timeout_ms, "Each call's deadline");
  CLI11_PARSE(app, argc, argv);
  return Bench(o).run();
}
