// `minidynamo get|put|delete`: a command-line client of the HTTP API.
//
// Exit codes: 0 success, 1 error, 3 not found, 4 conflict (siblings printed), 5 quorum not reached.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace md::cli {

void add_client_commands(CLI::App& app);

// A node's "host:port" as host and port; nullopt when it is not one.
std::optional<std::pair<std::string, uint16_t>> parse_address(const std::string& node);

}  // namespace md::cli
