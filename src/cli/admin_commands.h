// `minidynamo admin status|ring|join|leave|remove|replace|transfers|repair`: the operator's view of
// the membership and the changes to it, through any node's GET /cluster and /ring and its
// POST /admin/{leave,remove,replace,repair} (with --security on: the admin grant). A node joins by
// itself (`minidynamo node --join`); `admin join` reports and waits for it. docs/operations.md,
// "Changing membership: minidynamo admin".
#pragma once

#include <rapidjson/document.h>

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

namespace md::cli {

void add_admin_commands(CLI::App& app);

// The transfers of the change of owners under way, as a node's GET /cluster lists them: all of
// them, or only those to one member (`admin` and `status` print this).
struct Tally {
  size_t done = 0;
  size_t total = 0;
  uint64_t keys = 0;  // sent and acknowledged so far
};
Tally tally(const rapidjson::Value& cluster, const std::string& only_to = {});

}  // namespace md::cli
