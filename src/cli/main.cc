// minidynamo: one binary for the node, the client verbs and the tools.
#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/client_commands.h"
#include "cli/node_command.h"
#include "cli/sim_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Mini Dynamo: a leaderless, tunable-consistency key-value store"};
  app.require_subcommand(1);
  md::cli::add_node_command(app);
  md::cli::add_client_commands(app);
  md::cli::add_sim_command(app);
  md::cli::add_bench_command(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
