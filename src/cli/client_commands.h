// `minidynamo get|put|delete`: a command-line client of the HTTP API.
//
// Exit codes: 0 success, 1 error, 3 not found, 4 conflict (siblings printed), 5 quorum not reached.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_client_commands(CLI::App& app);

}  // namespace md::cli
