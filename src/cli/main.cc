// minidynamo: one binary for the node, the client verbs and the tools.
#include <CLI/CLI.hpp>

#include "cli/bench_command.h"
#include "cli/client_commands.h"
#include "cli/node_command.h"
#include "cli/sim_command.h"

namespace {

// CLI11 parses an unsigned option with strtoull, which takes "-5" and wraps it to a huge number:
// every unsigned option refuses a negative value instead.
void refuse_negative_numbers(CLI::App& app) {
  const CLI::Validator non_negative(
      [](const std::string& value) {
        return value.find('-') == std::string::npos ? std::string() : "must not be negative, got " + value;
      },
      "NONNEGATIVE");
  for (CLI::App* command : app.get_subcommands({})) {
    for (CLI::Option* option : command->get_options()) {
      if (option->get_type_name() == "UINT") option->check(non_negative);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Mini Dynamo: a leaderless, tunable-consistency key-value store"};
  app.require_subcommand(1);
  md::cli::add_node_command(app);
  md::cli::add_client_commands(app);
  md::cli::add_sim_command(app);
  md::cli::add_bench_command(app);
  refuse_negative_numbers(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
