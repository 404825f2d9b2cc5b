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
#include <set>
#include <unordered_map>

#include "cli/latency_histogram.h"
#include "cli/value_generator.h"

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
  std::string values = "letters";  // value_generator.h
  std::optional<int> n, r, w;
  bool blind = false;
  bool preload = true;
  bool json = false;
  std::string key_prefix = "bench:";
  uint64_t seed = 1;
  uint32_t timeout_ms = 5000;            // per request and per connect attempt
  std::optional<double> preload_timeout_s;  // default: duration_s
  double max_error_rate_percent = 0.1;
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
  LatencyHistogram latency;  // successful operations only
  uint64_t reads = 0, writes = 0;
  std::map<std::string, uint64_t> errors;  // by kind: "HTTP 503", "connect: Connection refused", "timeout", ...
  uint64_t error_count() const {
    uint64_t n = 0;
    for (const auto& [kind, count] : errors) n += count;
    return n;
  }
};

class Bench {
 public:
  explicit Bench(BenchOptions o)
      : o_(std::move(o)), rng_(o_.seed), zipf_(o_.distribution == "zipfian" ? o_.keys : 1, 0.99) {
    if (!parse_value_kind(o_.values, &value_kind_)) value_kind_ = ValueKind::letters;  // the flag's check refused others
    for (const auto& [name, v] : {std::pair{"N", o_.n}, std::pair{"R", o_.r}, std::pair{"W", o_.w}}) {
      if (v) query_ += std::string(query_.empty() ? "?" : "&") + name + "=" + std::to_string(*v);
    }
  }

  int run();

 private:
  struct Connection;
  std::string key(uint64_t i) const { return o_.key_prefix + std::to_string(i); }
  uint64_t pick_key() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    return o_.distribution == "zipfian" ? zipf_.next(u) : static_cast<uint64_t>(u * static_cast<double>(o_.keys)) % o_.keys;
  }
  bool pick_read() {
    int read_percent = o_.workload == "read" ? 100 : o_.workload == "write" ? 0 : o_.workload == "mixed" ? 50 : 95;
    return std::uniform_int_distribution<int>(0, 99)(rng_) < read_percent;
  }
  // One connection's loop: the preload writes each key once (keys handed out in order), the
  // measurement runs the workload; both until stop().
  asio::awaitable<void> connection(size_t endpoint, bool preload);
  asio::awaitable<bool> connect(Connection& c, size_t endpoint, bool preload);
  asio::awaitable<unsigned> call(Connection& c, http::verb verb, uint64_t key_index, std::string body);
  // Runs the connections of one phase until they are done or `limit` passed; returns the seconds it took.
  double run_phase(asio::io_context& io, bool preload, std::chrono::duration<double> limit);
  void stop();
  void failed(bool preload, const std::string& kind) { ++(preload ? preload_errors_ : stats_.errors)[kind]; }
  void remember_context(uint64_t key_index, const std::string& body);
  std::string write_body(uint64_t key_index);
  void progress(double elapsed_s, bool final_line);
  void report(double seconds);
  double mean_value_bytes() const {
    return values_written_ == 0 ? 0.0 : static_cast<double>(value_bytes_written_) / static_cast<double>(values_written_);
  }

  BenchOptions o_;
  std::mt19937_64 rng_;
  Zipf zipf_;
  ValueKind value_kind_ = ValueKind::letters;
  uint64_t value_bytes_written_ = 0, values_written_ = 0;  // the values' JSON text, for the report
  std::string query_;
  std::unordered_map<uint64_t, std::string> contexts_;  // last context seen, by key index
  std::vector<tcp::endpoint> endpoints_;
  std::vector<bool> connect_failure_told_;  // per endpoint: its first connect failure was printed
  std::set<asio::steady_timer*> backing_off_;  // connections waiting to connect again; stop() wakes them
  Stats stats_;
  std::map<std::string, uint64_t> preload_errors_;
  uint64_t next_preload_ = 0, preloaded_ = 0;
  bool stopping_ = false;
};

// One keep-alive connection's state; the request is reused, so each call only changes what differs.
struct Bench::Connection {
  explicit Connection(const asio::any_io_executor& executor) : stream(executor), backoff(executor) {
    request.version(11);
    request.set(http::field::host, "minidynamo");
    request.set(http::field::content_type, "application/json");
    request.keep_alive(true);
  }
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  http::request<http::string_body> request;
  asio::steady_timer backoff;
};

std::string Bench::write_body(uint64_t key_index) {
  // A fresh value each write: values that compress like real data, not like "xxxx".
  const std::string value = make_value(value_kind_, o_.value_bytes, rng_);
  value_bytes_written_ += value.size();
  ++values_written_;
  std::string body = "{\"value\":" + value;
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
  c.stream.expires_after(std::chrono::milliseconds(o_.timeout_ms));
  co_await http::async_write(c.stream, c.request, asio::use_awaitable);
  http::response<http::string_body> response;
  co_await http::async_read(c.stream, c.buffer, response, asio::use_awaitable);
  remember_context(key_index, response.body());
  co_return response.result_int();
}

void Bench::stop() {
  stopping_ = true;
  for (auto* timer : backing_off_) timer->cancel();
}

// Connects, or counts the failure, says so (once per node) and waits before the next attempt:
// 50 ms, doubling up to 1 s, cut short by stop().
asio::awaitable<bool> Bench::connect(Connection& c, size_t endpoint, bool preload) {
  static constexpr auto kFirstBackoff = std::chrono::milliseconds(50), kMaxBackoff = std::chrono::milliseconds(1000);
  auto backoff = kFirstBackoff;
  while (!stopping_) {
    beast::error_code ec;
    c.stream.expires_after(std::chrono::milliseconds(o_.timeout_ms));
    co_await c.stream.async_connect(endpoints_[endpoint], asio::redirect_error(asio::use_awaitable, ec));
    if (!ec) {
      c.stream.socket().set_option(tcp::no_delay(true));
      co_return true;
    }
    const std::string why = ec == beast::error::timeout ? "timed out" : ec.message();
    c.stream.socket().close(ec);
    failed(preload, "connect: " + why);
    if (!connect_failure_told_[endpoint]) {
      connect_failure_told_[endpoint] = true;
      std::fprintf(stderr, "bench: cannot connect to %s (%s); retrying with backoff up to %lld ms\n",
                   o_.nodes[endpoint].c_str(), why.c_str(), static_cast<long long>(kMaxBackoff.count()));
    }
    c.backoff.expires_after(backoff);
    backing_off_.insert(&c.backoff);
    co_await c.backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    backing_off_.erase(&c.backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  co_return false;
}

asio::awaitable<void> Bench::connection(size_t endpoint, bool preload) {
  Connection c(co_await asio::this_coro::executor);
  bool connected = false;
  while (!stopping_) {
    if (preload && next_preload_ >= o_.keys) {
      stop();  // every key is handed out; the others' last writes finish, the connections waiting to connect give up
      break;
    }
    if (!connected && !(connected = co_await connect(c, endpoint, preload))) break;
    auto started = Clock::now();
    unsigned status = 0;
    const bool is_read = !preload && pick_read();
    const uint64_t k = preload ? next_preload_++ : pick_key();
    try {
      if (preload || (!is_read && (o_.blind || contexts_.contains(k)))) {
        status = co_await call(c, http::verb::put, k, write_body(k));
      } else if (is_read) {
        status = co_await call(c, http::verb::get, k, "");
      } else {
        // An update as a real client makes it: with the context of what it last saw, read first if none.
        status = co_await call(c, http::verb::get, k, "");
        if (status == 200 || status == 404) status = co_await call(c, http::verb::put, k, write_body(k));
      }
    } catch (const boost::system::system_error& e) {
      failed(preload, e.code() == beast::error::timeout ? "timeout" : "connection: " + e.code().message());
      beast::error_code ignored;
      c.stream.socket().close(ignored);  // the next round connects again
      connected = false;
      c.buffer.clear();
      continue;
    }
    const bool ok = status == 200 || (is_read && status == 404);
    if (!ok) {
      failed(preload, "HTTP " + std::to_string(status));
    } else if (preload) {
      ++preloaded_;
    } else {
      stats_.latency.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count()));
      ++(is_read ? stats_.reads : stats_.writes);
    }
  }
}

double Bench::run_phase(asio::io_context& io, bool preload, std::chrono::duration<double> limit) {
  stopping_ = false;
  auto started = Clock::now();
  for (uint32_t c = 0; c < o_.connections; ++c) {
    asio::co_spawn(io, connection(c % endpoints_.size(), preload), asio::detached);
  }
  asio::steady_timer ticker(io);
  std::function<void()> tick = [&] {
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    if (elapsed >= limit.count()) return stop();
    if (!preload) progress(elapsed, false);
    const std::chrono::duration<double> left = limit - (Clock::now() - started);
    ticker.expires_after(std::chrono::duration_cast<Clock::duration>(std::min(std::chrono::duration<double>(0.5), left)));
    ticker.async_wait([&](beast::error_code) {
      if (!stopping_) tick();
    });
  };
  tick();
  // The connections end at stop(), each after its request in flight (at most --timeout-ms); the
  // ticker then goes too.
  while (io.run_one() > 0) {
    if (stopping_) ticker.cancel();
  }
  io.restart();
  return std::chrono::duration<double>(Clock::now() - started).count();
}

void Bench::progress(double elapsed_s, bool final_line) {
  if (o_.json) return;
  std::fprintf(stderr, "\r%6.1fs  %10.0f ops/s  %8llu errors%s", elapsed_s,
               elapsed_s > 0 ? static_cast<double>(stats_.latency.count()) / elapsed_s : 0.0,
               static_cast<unsigned long long>(stats_.error_count()), final_line ? "\n" : "");
}

double error_rate(uint64_t ok, uint64_t errors) {
  return ok + errors == 0 ? 0.0 : static_cast<double>(errors) / static_cast<double>(ok + errors);
}

void Bench::report(double seconds) {
  const auto& h = stats_.latency;
  double throughput = static_cast<double>(h.count()) / seconds;
  double rate = error_rate(h.count(), stats_.error_count());
  auto ms = [](uint64_t micros) { return static_cast<double>(micros) / 1000.0; };
  if (o_.json) {
    std::printf("{\"workload\":\"%s\",\"distribution\":\"%s\",\"values\":\"%s\",\"value_bytes_mean\":%.0f,"
                "\"connections\":%u,\"seconds\":%.6f,\"operations\":%llu,"
                "\"reads\":%llu,\"writes\":%llu,\"ops_per_second\":%.1f,\"latency_ms\":{\"p50\":%.3f,\"p90\":%.3f,"
                "\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},\"error_rate\":%.6f,\"errors\":{",
                o_.workload.c_str(), o_.distribution.c_str(), o_.values.c_str(), mean_value_bytes(), o_.connections, seconds,
                static_cast<unsigned long long>(h.count()), static_cast<unsigned long long>(stats_.reads),
                static_cast<unsigned long long>(stats_.writes), throughput, ms(h.quantile(0.5)), ms(h.quantile(0.9)),
                ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()), rate);
    bool first = true;
    for (const auto& [kind, n] : stats_.errors) {
      std::printf("%s\"%s\":%llu", first ? "" : ",", kind.c_str(), static_cast<unsigned long long>(n));
      first = false;
    }
    std::printf("}}\n");
    return;
  }
  std::printf("workload %s (%s keys: %llu, %s values of %.0f bytes on average), %u connections, %.1f s\n",
              o_.workload.c_str(), o_.distribution.c_str(), static_cast<unsigned long long>(o_.keys), o_.values.c_str(),
              mean_value_bytes(), o_.connections, seconds);
  std::printf("throughput   %.0f ops/s succeeded (%llu reads, %llu writes)\n", throughput,
              static_cast<unsigned long long>(stats_.reads), static_cast<unsigned long long>(stats_.writes));
  std::printf("latency ms   p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f (successful operations)\n",
              ms(h.quantile(0.5)), ms(h.quantile(0.9)), ms(h.quantile(0.99)), ms(h.quantile(0.999)), ms(h.max()));
  if (stats_.errors.empty()) std::printf("errors       none\n");
  for (const auto& [kind, n] : stats_.errors) std::printf("errors       %s: %llu\n", kind.c_str(), static_cast<unsigned long long>(n));
}

std::string describe(const std::map<std::string, uint64_t>& errors) {
  std::string text;
  for (const auto& [kind, n] : errors) text += (text.empty() ? "" : ", ") + kind + ": " + std::to_string(n);
  return text.empty() ? "no errors" : text;
}

int Bench::run() {
  asio::io_context io(1);
  tcp::resolver resolver(io);
  for (const auto& node : o_.nodes) {
    auto colon = node.rfind(':');
    if (colon == std::string::npos) throw CLI::ValidationError("--nodes", node + " is not host:port");
    boost::system::error_code ec;
    auto resolved = resolver.resolve(node.substr(0, colon), node.substr(colon + 1), ec);
    if (ec || resolved.empty()) throw CLI::ValidationError("--nodes", "cannot resolve " + node + ": " + ec.message());
    endpoints_.push_back(*resolved.begin());
  }
  connect_failure_told_.assign(endpoints_.size(), false);
  if (o_.preload && o_.workload != "write") {
    const double limit = o_.preload_timeout_s ? *o_.preload_timeout_s : o_.duration_s;
    double took = run_phase(io, true, std::chrono::duration<double>(limit));
    if (preloaded_ < o_.keys) {
      std::fprintf(stderr, "bench: the preload wrote %llu of %llu keys in %.1f s (limit %.1f s; %s); nothing measured\n",
                   static_cast<unsigned long long>(preloaded_), static_cast<unsigned long long>(o_.keys), took, limit,
                   describe(preload_errors_).c_str());
      return 1;
    }
  }
  double seconds = run_phase(io, false, std::chrono::duration<double>(o_.duration_s));
  progress(seconds, true);
  report(seconds);
  const uint64_t ok = stats_.latency.count(), errors = stats_.error_count();
  if (ok == 0) {
    std::fprintf(stderr, "bench: no operation succeeded (%s)\n", describe(stats_.errors).c_str());
    return 1;
  }
  if (error_rate(ok, errors) * 100 > o_.max_error_rate_percent) {
    std::fprintf(stderr, "bench: %.3f%% of the operations failed, more than --max-error-rate %g%% (%s)\n",
                 error_rate(ok, errors) * 100, o_.max_error_rate_percent, describe(stats_.errors).c_str());
    return 1;
  }
  return 0;
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
  cmd->add_option("--duration", o->duration_s, "Seconds to measure (more than 0)")->capture_default_str();
  cmd->add_option("--preload-timeout", o->preload_timeout_s,
                  "Seconds the preload may take at most; a preload that does not write every key in time ends the "
                  "run with exit code 1 (default: --duration)");
  cmd->add_option("--timeout-ms", o->timeout_ms, "A request or connection attempt that takes longer counts as an error")
      ->check(CLI::Range(1u, 3600000u))
      ->capture_default_str();
  cmd->add_option("--max-error-rate", o->max_error_rate_percent,
                  "Percent of failed operations above which the run exits with code 1")
      ->check(CLI::Range(0.0, 100.0))
      ->capture_default_str();
  cmd->add_option("--keys", o->keys, "Key count")->check(CLI::Range(1, 1 << 30))->capture_default_str();
  cmd->add_option("--value-bytes", o->value_bytes, "Value size for --values letters and random")->capture_default_str();
  cmd->add_option("--values", o->values,
                  "letters: random letters; json: JSON documents of 1-16 KiB (customer records); random: random "
                  "printable bytes, the worst case for compression")
      ->check(CLI::IsMember({"letters", "json", "random"}))
      ->capture_default_str();
  cmd->add_option("--n", o->n, "N per request (default: the nodes' default)");
  cmd->add_option("--r", o->r, "R per request");
  cmd->add_option("--w", o->w, "W per request");
  cmd->add_flag("--blind", o->blind, "Write without context (siblings pile up by design)");
  cmd->add_flag("!--no-preload", o->preload, "Do not write every key once before a read workload");
  cmd->add_flag("--json", o->json, "Print the report as one JSON object");
  cmd->add_option("--key-prefix", o->key_prefix, "Prefix of the benchmark's keys")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the key and operation choice")->capture_default_str();
  cmd->callback([o] {
    if (!(o->duration_s > 0)) throw CLI::ValidationError("--duration", "must be more than 0 seconds");
    if (o->preload_timeout_s && !(*o->preload_timeout_s > 0)) {
      throw CLI::ValidationError("--preload-timeout", "must be more than 0 seconds");
    }
    int code = Bench(*o).run();
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace md::cli
