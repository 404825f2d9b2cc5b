// `minidynamo user add|passwd|remove|grant|revoke|list|token`: the users and their grants, through
// any node's /admin/users (the caller needs the admin grant; docs/security.md). A change made on
// one node reaches every node by gossip within seconds.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_user_commands(CLI::App& app);

}  // namespace md::cli
