// `minidynamo node`: runs one node of a cluster in the foreground until SIGINT/SIGTERM.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_node_command(CLI::App& app);

}  // namespace md::cli
