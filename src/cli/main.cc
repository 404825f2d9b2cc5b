// minidynamo: one binary for the node, the client verbs and the tools.
#include <CLI/CLI.hpp>

#include "cli/admin_commands.h"
#include "cli/bench_command.h"
#include "cli/check_command.h"
#include "cli/client_commands.h"
#include "cli/user_commands.h"
#include "cli/node_command.h"
#include "cli/sim_command.h"

namespace {

constexpr int kUsageError = 2;

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
  md::cli::add_user_commands(app);
  md::cli::add_admin_commands(app);
  md::cli::add_sim_command(app);
  md::cli::add_bench_command(app);
  md::cli::add_check_command(app);
  refuse_negative_numbers(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command that ran and failed: it said why, its code says how
  } catch (const CLI::ParseError& e) {
    // --help answers 0; every usage error (an unknown flag, a bad value) exits 2, as most tools do.
    return app.exit(e) == 0 ? 0 : kUsageError;
  }
  return 0;
}
