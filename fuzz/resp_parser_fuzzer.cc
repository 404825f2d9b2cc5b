// Raw bytes from a client on the RESP port, as the server reads them: the first byte picks where
// the stream is cut (so every split is fuzzed), then the commands are parsed with small limits
// (so the limits are reached) and each is carried out against answers the fuzzer invents from the
// bytes: a parse never crashes, never consumes more than it was given, yields the same commands
// however the stream is split, and a command's steps always end in a reply.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/resp_commands.h"
#include "net/resp_protocol.h"

namespace {

using md::net::resp::CommandParser;

struct Parsed {
  std::vector<std::vector<std::string>> commands;
  std::string error;
  bool operator==(const Parsed&) const = default;
};

Parsed parse(std::string_view bytes, size_t cut, const md::net::resp::ParserLimits& limits) {
  CommandParser parser(limits);
  Parsed out;
  std::string buffered;
  for (std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    buffered.append(piece);
    while (true) {
      std::vector<std::string> command;
      auto r = parser.parse(buffered, &command);
      if (r.consumed > buffered.size()) std::abort();
      buffered.erase(0, r.consumed);
      if (r.kind == CommandParser::Kind::error) {
        out.error = r.error;
        return out;
      }
      if (r.kind == CommandParser::Kind::need_more) break;
      if (command.empty()) std::abort();
      out.commands.push_back(std::move(command));
    }
  }
  return out;
}

// Carries a command out to its reply, answering every core request (and AUTH's check of its
// credentials) from the fuzzer's bytes.
void run(const std::vector<std::string>& command, md::net::resp::Session& session, uint8_t seed) {
  md::net::resp::CommandLimits limits;
  limits.keys_per_command_max = 16;
  md::net::resp::InfoFn info = [] { return md::net::resp::NodeInfo{}; };
  auto step = md::net::resp::execute(command, session, limits, info);
  constexpr size_t kOutcomes = static_cast<size_t>(md::core::Outcome::rate_limited) + 1;
  for (int depth = 0; !step.requests.empty() || step.authenticate; ++depth) {
    if (depth > 4 || !step.then) std::abort();  // DEL takes two steps; nothing takes more
    std::vector<md::core::ClientResponse> answers(step.authenticate ? 1 : step.requests.size());
    for (size_t i = 0; i < answers.size(); ++i) {
      auto& a = answers[i];
      a.outcome = static_cast<md::core::Outcome>((seed + i) % kOutcomes);
      if ((seed >> 3) & 1) a.siblings.push_back(md::core::Sibling{{"n", 1}, {}, false, command.back()});
      if ((seed >> 4) & 1) a.siblings.push_back(md::core::Sibling{{"n", 2}, {}, false, "\"x\""});
      if ((seed >> 5) & 1) a.keys = {command.back()};
      if ((seed >> 6) & 1) a.next_cursor = command.back();
    }
    step = step.then(std::move(answers));
  }
  if (step.reply.empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  md::net::resp::ParserLimits limits;
  limits.bulk_bytes_max = 256;
  limits.items_max = 32;
  limits.command_bytes_max = 4096;
  limits.line_bytes_max = 64;
  const Parsed whole = parse(bytes, bytes.size(), limits);
  if (!(parse(bytes, data[0] % (bytes.size() + 1), limits) == whole)) std::abort();
  md::net::resp::Session session;
  for (const auto& command : whole.commands) run(command, session, data[0]);
  return 0;
}
