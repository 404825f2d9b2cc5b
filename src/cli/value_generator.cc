#include "cli/value_generator.h"

#include <array>

#include <fmt/format.h>

namespace md::cli {
namespace {

constexpr std::array<std::string_view, 24> kFirstNames = {
    "Ada", "Alan", "Barbara", "Brian", "Claude", "Dennis", "Donald", "Edsger", "Frances", "Grace", "Ivan", "John",
    "Ken", "Leslie", "Linus", "Margaret", "Niklaus", "Radia", "Rob", "Shafi", "Sophie", "Tim", "Tony", "Whitfield"};
constexpr std::array<std::string_view, 16> kLastNames = {
    "Lovelace", "Turing", "Liskov", "Kernighan", "Shannon", "Ritchie", "Knuth", "Dijkstra",
    "Allen",    "Hopper", "Sutherland", "McCarthy", "Thompson", "Lamport", "Torvalds", "Hamilton"};
constexpr std::array<std::string_view, 12> kCities = {"Amsterdam", "Berlin", "Cambridge", "Dublin", "Edinburgh", "Lisbon",
                                                      "Madrid", "Oslo", "Paris", "Prague", "Vienna", "Zurich"};
constexpr std::array<std::string_view, 10> kTags = {"admin", "beta", "billing", "churned", "enterprise",
                                                    "free",  "mobile", "newsletter", "trial", "vip"};
constexpr std::array<std::string_view, 4> kStatuses = {"active", "pending", "suspended", "closed"};

template <size_t N>
std::string_view pick(const std::array<std::string_view, N>& words, std::mt19937_64& rng) {
  return words[rng() % N];
}

// One record of a customer-like document, about 330 to 400 bytes.
void append_record(std::string& out, std::mt19937_64& rng) {
  const auto first = pick(kFirstNames, rng);
  const auto last = pick(kLastNames, rng);
  const uint64_t id = 100000 + rng() % 900000;
  fmt::format_to(std::back_inserter(out),
                 "{{\"id\":{},\"name\":\"{} {}\",\"email\":\"{}.{}{}@example.com\",\"status\":\"{}\","
                 "\"created_at\":\"2024-{:02}-{:02}T{:02}:{:02}:{:02}Z\",\"balance\":{}.{:02},\"logins\":{},"
                 "\"verified\":{},\"address\":{{\"street\":\"{} {} Street\",\"city\":\"{}\",\"zip\":\"{:05}\"}},"
                 "\"tags\":[\"{}\",\"{}\"],\"last_order\":{{\"order_id\":\"ord_{:08x}\",\"items\":{},\"total\":{}.{:02}}}}}",
                 id, first, last, first, last, id % 1000, pick(kStatuses, rng), 1 + rng() % 12, 1 + rng() % 28, rng() % 24,
                 rng() % 60, rng() % 60, rng() % 10000, rng() % 100, rng() % 500, rng() % 2 == 0 ? "true" : "false",
                 1 + rng() % 200, pick(kLastNames, rng), pick(kCities, rng), rng() % 100000, pick(kTags, rng),
                 pick(kTags, rng), rng() % 0xffffffff, 1 + rng() % 9, rng() % 1000, rng() % 100);
}

// A JSON string of `bytes` characters drawn from `alphabet`.
std::string random_string(std::string_view alphabet, uint32_t bytes, std::mt19937_64& rng) {
  std::string out(bytes + 2, '"');
  for (uint32_t i = 1; i <= bytes; ++i) out[i] = alphabet[rng() % alphabet.size()];
  return out;
}

// Printable ASCII without the two characters a JSON string must escape.
constexpr std::string_view kPrintable =
    " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~";
constexpr std::string_view kLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

}  // namespace

bool parse_value_kind(std::string_view name, ValueKind* kind) {
  if (name == "letters") *kind = ValueKind::letters;
  else if (name == "json") *kind = ValueKind::json;
  else if (name == "random") *kind = ValueKind::random;
  else return false;
  return true;
}

std::string make_value(ValueKind kind, uint32_t value_bytes, std::mt19937_64& rng) {
  if (kind == ValueKind::letters) return random_string(kLetters, value_bytes, rng);
  if (kind == ValueKind::random) return random_string(kPrintable, value_bytes, rng);
  const size_t target = kJsonValueBytesMin + rng() % (kJsonValueBytesMax - kJsonValueBytesMin + 1);
  std::string out = fmt::format("{{\"account\":\"acct_{:012x}\",\"version\":{},\"customers\":[", rng() % (1ull << 48), rng() % 100);
  constexpr std::string_view kEnd = "]}";
  bool first = true;
  for (;;) {
    std::string record = first ? "" : ",";
    append_record(record, rng);
    if (out.size() + record.size() + kEnd.size() > target) break;
    out += record;
    first = false;
  }
  // Pad to exactly the target size with a note, so sizes spread evenly over the range.
  const size_t pad = target - out.size() - kEnd.size();
  if (pad >= 12) {
    out += (first ? "" : ",");
    out += "{\"note\":\"";
    const size_t note = target - out.size() - kEnd.size() - 2;
    out += random_string(kLetters, static_cast<uint32_t>(note), rng).substr(1, note);
    out += "\"}";
  }
  out += kEnd;
  return out;
}

}  // namespace md::cli
