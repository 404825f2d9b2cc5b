// `minidynamo sim`: runs the deterministic simulator for one seed (with a readable trace on
// request) or for a range of seeds and a file of regression seeds, as CI does.
#pragma once

#include <CLI/CLI.hpp>

namespace md::cli {

void add_sim_command(CLI::App& app);

}  // namespace md::cli
