// `minidynamo admin status|ring|join|leave|remove|replace|transfers|repair`: the operator's view of
// the membership and the changes to it, through any node's GET /cluster and /ring and its
// POST /admin/{leave,remove,replace,repair} (with --security on: the admin grant). A node joins by
// itself (`minidynamo node --join`); `admin join` reports and waits for it. docs/operations.md,
// "Changing membership: minidynamo admin".
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_admin_commands(CLI::App& app);

}  // namespace md::cli
