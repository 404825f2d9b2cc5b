#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "cli/bench_command.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>

#include "cli/latency_histogram.h"

namespace md::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::vector<std::string> nodes = {"127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1:5003"};
  std::string workload = "mixed";  // write, read, mixed (50/50), read-heavy (95/5)
  std::string distribution = "uniform";
  uint32_t connections = 64;
  double duration_s = 10;
  uint64_t keys = 10000;
  uint32_t value_bytes = 100;
  std::optional<int> n, r, w;
  bool blind = false;
  bool preload = true;
  bool json = false;
  std::string key_prefix = "bench:";
  uint64_t seed = 1;
};

// Zipfian keys (YCSB's generator, theta 0.99): a few keys take most of the traffic.
class Zipf {
 public:
  Zipf(uint64_t n, double theta) : n_(n), theta_(theta) {
    for (uint64_t i = 1; i <= n; ++i) zeta_n_ += 1.0 / std::pow(static_cast<double>(i), theta);
    zeta2_ = 1.0 + 1.0 / std::pow(2.0, theta);
    alpha_ = 1.0 / (1.0 - theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2_ / zeta_n_);
  }
  uint64_t next(double u) const {
    double uz = u * zeta_n_;
    if (uz < 1.0) return 0;
    if (uz < zeta2_) return 1;
    return static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_)) % n_;
  }

 private:
  uint64_t n_;
  double theta_, zeta_n_ = 0, zeta2_ = 0, alpha_ = 0, eta_ = 0;
};

struct Stats {
  LatencyHistogram latency;
  uint64_t reads = 0, writes = 0;
  std::map<std::string, uint64_t> errors;  // by kind: "HTTP 503", "connection", ...
};

class Bench {
 public:
  explicit Bench(BenchOptions o)
      : o_(std::move(o)), rng_(o_.seed), zipf_(o_.distribution == "zipfian" ? o_.keys : 1, 0.99) {
    value_json_ = "\"" + std::string(o_.value_bytes, 'x') + "\"";
    for (const auto& [name, v] : {std::pair{"N", o_.n}, std::pair{"R", o_.r}, std::pair{"W", o_.w}}) {
      if (v) query_ += std::string(query_.empty() ? "?" : "&") + name + "=" + std::to_string(*v);
    }
  }

  int run();

 private:
  std::string key(uint64_t i) const { return o_.key_prefix + std::to_string(i); }
  uint64_t pick_key() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return o_.distribution == "zipfian" ? zipf_.next(u) : static_cast<uint64_t>(u * static_cast<double>(o_.keys)) % o_.keys;
  }
  bool pick_read() {
    int read_percent = o_.workload == "read" ? 100 : o_.workload == "write" ? 0 : o_.workload == "mixed" ? 50 : 95;
    return std::uniform_int_distribution<int>(0, 99)(rng_) < read_percent;
  }
  asio::awaitable<void> connection(tcp::endpoint endpoint, bool measuring_phase, uint64_t first_key, uint64_t step);
  struct Connection;
  asio::awaitable<unsigned> call(Connection& c, http::verb verb, uint64_t key_index, std::string body);
  void remember_context(uint64_t key_index, const std::string& body);
  std::string write_body(uint64_t key_index);
  void progress(double elapsed_s, bool final_line);
  void report(double seconds);

  BenchOptions o_;
  std::mt19937_64 rng_;
  Zipf zipf_;
  std::string value_json_;
  std::string query_;
  std::unordered_map<uint64_t, std::string> contexts_;  // last context seen, by key index
  std::vector<tcp::endpoint> endpoints_;
  Stats stats_;
  bool measuring_ = false;
  bool stopping_ = false;
  uint64_t done_ops_ = 0;
};

// One keep-alive connection's state; the request is reused, so each call only changes what differs.
struct Bench::Connection {
  explicit Connection(const asio::any_io_executor& executor) : stream(executor) {
    request.version(11);
    request.set(http::field::host, "minidynamo");
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
  }
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
};

std::string Bench::write_body(uint64_t key_index) {
  // Fresh random letters each write: values that compress like real data, not like "xxxx".
  static constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (size_t i = 1; i + 1 < value_json_.size(); ++i) value_json_[i] = kAlphabet[rng_() % kAlphabet.size()];
  std::string body = "{\"value\":" + value_json_;
  if (!o_.blind) {
    auto it = contexts_.find(key_index);
    if (it != contexts_.end()) body += ",\"context\":\"" + it->second + "\"";
  }
  return body + "}";
}

void Bench::remember_context(uint64_t key_index, const std::string& body) {
  constexpr std::string_view marker = "\"context\":\"";
  auto at = body.rfind(marker);
  if (at == std::string::npos) return;
  auto start = at + marker.size();
  auto end = body.find('"', start);
  if (end != std::string::npos) contexts_[key_index] = body.substr(start, end - start);
}

asio::awaitable<unsigned> Bench::call(Connection& c, http::verb verb, uint64_t key_index, std::string body) {
  c.request.method(verb);
  c.request.target("/kv/" + key(key_index) + query_);
  c.request.body() = std::move(body);
  c.request.prepare_payload();
  co_await http::async_write(c.stream, c.request, asio::use_awaitable);
  http::response<http::string_body> response;
  co_await http::async_read(c.stream, c.buffer, response, asio::use_awaitable);
  remember_context(key_index, response.body());
  co_return response.result_int();
}

asio::awaitable<void> Bench::connection(tcp::endpoint endpoint, bool preload, uint64_t first_key, uint64_t step) {
  Connection c(co_await asio::this_coro::executor);
  auto& stream = c.stream;
  bool connected = false;
  uint64_t next_preload = first_key;
  while (!stopping_) {
    if (preload && next_preload >= o_.keys) break;
    try {
      if (!connected) {
        co_await stream.async_connect(endpoint, asio::use_awaitable);
        stream.socket().set_option(tcp::no_delay(true));
        connected = true;
      }
      auto started = Clock::now();
      unsigned status = 0;
      bool is_read = !preload && pick_read();
      const uint64_t k = preload ? next_preload : pick_key();
      if (preload) {
        next_preload += step;
        status = co_await call(c, http::verb::put, k, write_body(k));
      } else if (is_read) {
        status = co_await call(c, http::verb::get, k, "");
      } else {
        // An update as a real client makes it: with the context of what it last saw, read first if none.
        if (!o_.blind && !contexts_.contains(k)) status = co_await call(c, http::verb::get, k, "");
        if (status == 0 || status == 200 || status == 404) status = co_await call(c, http::verb::put, k, write_body(k));
      }
      if (!measuring_ || preload) continue;
      auto micros = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count();
      bool ok = status == 200 || (is_read && status == 404);
      if (!ok) ++stats_.errors["HTTP " + std::to_string(status)];
      stats_.latency.record(static_cast<uint64_t>(micros));
      ++(is_read ? stats_.reads : stats_.writes);
      ++done_ops_;
    } catch (const boost::system::system_error& e) {
      if (measuring_ && !preload) ++stats_.errors["connection: " + e.code().message()];
      beast::error_code ignored;
      stream.socket().close(ignored);  // the next connect opens it again
      connected = false;
      c.buffer.clear();
    }
  }
}

void Bench::progress(double elapsed_s, bool final_line) {
  if (o_.json) return;
  uint64_t errors = 0;
  for (const auto& [kind, n] : stats_.errors) errors += n;
  std::fprintf(stderr, "\r%6.1fs  %10.0f ops/s  %8llu errors%s", elapsed_s,
               elapsed_s > 0 ? static_cast<double>(done_ops_) / elapsed_s : 0.0,
               static_cast<unsigned long long>(errors), final_line ? "\n" : "");
}

void Bench::report(double seconds) {
  const auto& h = stats_.latency;
  double throughput = static_cast<double>(h.count()) / seconds;
  auto ms = [](uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
  if (o_.json) {
    std::printf("{\"workload\":\"%s\",\"distribution\":\"%s\",\"connections\":%u,\"seconds\":%.3f,\"operations\":%llu,"
                "\"reads\":%llu,\"writes\":%llu,\"ops_per_second\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,"
                "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"errors\":{",
                o_.workload.c_str(), o_.distribution.c_str(), o_.connections, seconds,
                static_cast<unsigned long long>(h.count()), static_cast<unsigned long long>(stats_.reads),
                static_cast<unsigned long long>(stats_.writes), throughput, ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
    bool first = true;
    for (const auto& [kind, n] : stats_.errors) {
      std::printf("%s\"%s\":%llu", first ? "" : ",", kind.c_str(), static_cast<unsigned long long>(n));
      first = false;
    }
    std::printf("}}\n");
    return;
  }
  std::printf("workload %s (%s keys: %llu, value %u bytes), %u connections, %.1f s\n", o_.workload.c_str(),
              o_.distribution.c_str(), static_cast<unsigned long long>(o_.keys), o_.value_bytes, o_.connections,
              seconds);
  std::printf("throughput   %.0f ops/s (%llu reads, %llu writes)\n", throughput,
              static_cast<unsigned long long>(stats_.reads), static_cast<unsigned long long>(stats_.writes));
  std::printf("latency ms   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", ms(h.quantile(0.5)),
              ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
  if (stats_.errors.empty()) std::printf("errors       none\n");
  for (const auto& [kind, n] : stats_.errors) std::printf("errors       %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
}

int Bench::run() {
  asio::io_context io(1);
  tcp::resolver resolver(io);
  for (const auto& node : o_.nodes) {
    auto colon = node.rfind(':');
    if (colon == std::string::npos) throw CLI::ValidationError("--nodes", node + " is not host:port");
    endpoints_.push_back(*resolver.resolve(node.substr(0, colon), node.substr(colon + 1)).begin());
  }
  if (o_.preload && o_.workload != "write") {
    for (uint32_t c = 0; c < o_.connections; ++c) {
      asio::co_spawn(io, connection(endpoints_[c % endpoints_.size()], true, c, o_.connections), asio::detached);
    }
    io.run();
    io.restart();
  }
  measuring_ = true;
  auto started = Clock::now();
  for (uint32_t c = 0; c < o_.connections; ++c) {
    asio::co_spawn(io, connection(endpoints_[c % endpoints_.size()], false, 0, 0), asio::detached);
  }
  asio::steady_timer ticker(io);
  std::function<void()> tick = [&] {
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    if (elapsed >= o_.duration_s) {
      stopping_ = true;
      return;
    }
    progress(elapsed, false);
    ticker.expires_after(std::chrono::milliseconds(500));
    ticker.async_wait([&](beast::error_code) { tick(); });
  };
  tick();
  io.run();
  double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  progress(seconds, true);
  report(seconds);
  return stats_.latency.count() > 0 ? 0 : 1;
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Load a running cluster over HTTP and report throughput and latency");
  cmd->add_option("--nodes", o->nodes, "Target nodes host:port, comma separated; connections are spread over them")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--workload", o->workload, "write, read, mixed (50/50 read/write) or read-heavy (95/5)")
      ->check(CLI::IsMember({"write", "read", "mixed", "read-heavy"}))
      ->capture_default_str();
  cmd->add_option("--distribution", o->distribution, "Key choice: uniform or zipfian")
      ->check(CLI::IsMember({"uniform", "zipfian"}))
      ->capture_default_str();
  cmd->add_option("--connections", o->connections, "Keep-alive connections")->check(CLI::Range(1, 10000))->capture_default_str();
  cmd->add_option("--duration", o->duration_s, "Seconds to measure")->capture_default_str();
  cmd->add_option("--keys", o->keys, "Key count")->check(CLI::Range(1, 1 << 30))->capture_default_str();
  cmd->add_option("--value-bytes", o->value_bytes, "Value size")->capture_default_str();
  cmd->add_option("--n", o->n, "N per request (default: the nodes' default)");
  cmd->add_option("--r", o->r, "R per request");
  cmd->add_option("--w", o->w, "W per request");
  cmd->add_flag("--blind", o->blind, "Write without context (siblings pile up by design)");
  cmd->add_flag("!--no-preload", o->preload, "Do not write every key once before a read workload");
  cmd->add_flag("--json", o->json, "Print the report as one JSON object");
  cmd->add_option("--key-prefix", o->key_prefix, "Prefix of the benchmark's keys")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the key and operation choice")->capture_default_str();
  cmd->callback([o] {
    int code = Bench(*o).run();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace md::cli
