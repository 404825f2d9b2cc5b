#include "runtime/metrics.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace md::runtime {
namespace {

// The format's escapes: in HELP text a backslash and a newline; in label values a double quote too.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    fmt::format_to(std::back_inserter(out), "{}", value);  // the shortest text that reads back the same
  }
}

}  // namespace

void PrometheusText::family(std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(text_), "# HELP {} ", name);
  append_escaped(text_, help, false);
  fmt::format_to(std::back_inserter(text_), "\n# TYPE {} {}\n", name, type);
}

void PrometheusText::labels(Labels labels, std::string_view le) {
  if (labels.size() == 0 && le.empty()) return;
  text_ += '{';
  bool first = true;
  auto label = [&](std::string_view name, std::string_view value) {
    if (!first) text_ += ',';
    first = false;
    text_ += name;
    text_ += "=\"";
    append_escaped(text_, value, true);
    text_ += '"';
  };
  for (const auto& [name, value] : labels) label(name, value);
  if (!le.empty()) label("le", le);
  text_ += '}';
}

void PrometheusText::sample(std::string_view name, Labels labels, double value) {
  text_ += name;
  this->labels(labels);
  text_ += ' ';
  append_number(text_, value);
  text_ += '\n';
}

void PrometheusText::single(std::string_view name, std::string_view type, std::string_view help, double value) {
  family(name, type, help);
  sample(name, {}, value);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), buckets_(bounds_.size() + 1) {}

Histogram::Histogram(const Histogram& other) : bounds_(other.bounds_), buckets_(other.buckets_.size()) {
  for (size_t i = 0; i < buckets_.size(); ++i) buckets_[i].store(other.buckets_[i].load(std::memory_order_relaxed));
  sum_.store(other.sum_.load(std::memory_order_relaxed));
}

void Histogram::observe(double value) {
  const auto bucket = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

void Histogram::write(PrometheusText& out, std::string_view name, Labels labels) const {
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  std::string le;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    le.clear();
    append_number(le, i < bounds_.size() ? bounds_[i] : INFINITY);
    out.text_ += bucket;
    out.labels(labels, le);
    out.text_ += ' ';
    append_number(out.text_, static_cast<double>(cumulative));
    out.text_ += '\n';
  }
  // The count is the +Inf bucket's, read once, so the two always agree.
  out.sample(std::string(name) + "_sum", labels, sum_.load(std::memory_order_relaxed));
  out.sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
}

bool Histogram::empty() const {
  return std::all_of(buckets_.begin(), buckets_.end(), [](const auto& b) { return b.load(std::memory_order_relaxed) == 0; });
}

std::vector<double> Histogram::latency_seconds() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

}  // namespace md::runtime
