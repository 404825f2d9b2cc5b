// Where `minidynamo node` takes its flags from besides the command line, for packages and
// containers: a config file (`--config FILE`) and environment variables (MINIDYNAMO_PORT for
// --port, MINIDYNAMO_DATA_DIR for --data-dir: the flag's name in capitals, dashes as underscores).
//
// The command line wins over the environment, which wins over the file. A value from the file or
// the environment is checked exactly as the same flag on the command line is; a key in the file
// that names no flag, or a value a flag refuses, stops the node before it starts (exit code 2)
// with the file's and the key's names.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace md::cli {

struct ConfigSources {
  CLI::Option* config_file = nullptr;   // --config FILE
  CLI::Option* print_config = nullptr;  // --print-config: print the resulting config file and exit
};

// Gives every option `command` has so far its environment variable `<env_prefix>_<NAME>` and adds
// --config (also from `<env_prefix>_CONFIG`) and --print-config.
ConfigSources add_config_sources(CLI::App& command, const std::string& env_prefix);

// Call from the command's callback, before reading any option: fills every option the command
// line and the environment left unset from the --config file, if one was given.
void apply_config_file(CLI::App& command, const ConfigSources& sources);

// The environment variables that start with `<env_prefix>_` but name no option of `command`
// (a misspelled MINIDYNAMO_PROT): the caller warns about them. Not refused: other tools may share
// the prefix (the tests' MINIDYNAMO_BIN).
std::vector<std::string> unknown_variables(const CLI::App& command, const std::string& env_prefix);

// Every option of `command` as a config file that --config reads back to the same settings, each
// under its help text as a comment: those given (by any source) as `name=value`, the others
// commented out at their defaults (a default written as a setting would count as given: a kept
// data dir checks a given --nodes against its membership).
std::string config_file_text(const CLI::App& command);

}  // namespace md::cli
