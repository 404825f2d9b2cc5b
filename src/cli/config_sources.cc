#include "cli/config_sources.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>
#include <string_view>

namespace md::cli {

ConfigSources add_config_sources(CLI::App& command, const std::string& env_prefix) {
  for (CLI::Option* option : command.get_options()) {
    if (option->get_lnames().empty() || option->get_expected_min() == 0) continue;  // --help and other flags
    std::string name = option->get_lnames().front();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return c == '-' ? '_' : static_cast<char>(std::toupper(c)); });
    option->envname(env_prefix + "_" + name);
  }
  ConfigSources sources;
  sources.config_file = command.add_option("--config")
                            ->description("A config file of `flag = value` lines, the flags' names without dashes (e.g. "
                                          "`data-dir = \"/var/lib/minidynamo\"`); command-line flags and "
                                          "environment variables override it")
                            ->envname(env_prefix + "_CONFIG")
                            ->check(CLI::ExistingFile)
                            ->configurable(false);
  sources.print_config =
      command.add_flag("--print-config")
          ->description("Print the config file these flags, variables and --config make, and exit")
          ->configurable(false);
  return sources;
}

void apply_config_file(CLI::App& command, const ConfigSources& sources) {
  if (sources.config_file->count() == 0) return;
  const auto path = sources.config_file->as<std::string>();
  const std::string where = "--config " + path;
  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_file(path);
  } catch (const CLI::ParseError& e) {
    throw CLI::ValidationError(where, e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    if (!item.parents.empty() || item.name == "++" || item.name == "--") {
      throw CLI::ValidationError(where, "sections are not used; give each flag at the top level (" +
                                            item.fullname() + ")");
    }
    CLI::Option* option = command.get_option_no_throw("--" + item.name);
    if (option == nullptr || !option->get_configurable()) {
      throw CLI::ValidationError(where, "'" + item.name + "' is not a flag of `" + command.get_name() +
                                            "` that a config file may set (see --help)");
    }
    if (option->count() > 0) continue;  // the command line or the environment said otherwise
    try {
      option->add_result(item.inputs);
      option->run_callback();
    } catch (const CLI::ParseError& e) {
      throw CLI::ValidationError(where, "'" + item.name + "': " + e.what());
    }
  }
}

std::vector<std::string> unknown_variables(const CLI::App& command, const std::string& env_prefix) {
  std::set<std::string> known;
  for (const CLI::Option* option : command.get_options()) known.insert(option->get_envname());
  std::vector<std::string> unknown;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    const std::string_view variable(*entry);
    const std::string name(variable.substr(0, variable.find('=')));
    if (name.starts_with(env_prefix + "_") && !known.contains(name)) unknown.push_back(name);
  }
  return unknown;
}

std::string config_file_text(const CLI::App& command) {
  std::set<std::string> given;
  for (const CLI::Option* option : command.get_options()) {
    if (option->count() > 0) given.insert(option->get_single_name());
  }
  // CLI11 writes every option (with its description as a comment); those left at their defaults
  // are commented out, so that reading the file back gives them no more weight than before.
  std::istringstream written(command.config_to_str(true, true));
  std::string text;
  for (std::string line; std::getline(written, line);) {
    const bool setting = !line.empty() && line[0] != '#';
    if (setting && !given.contains(line.substr(0, line.find('=')))) text += "# ";
    text += line + "\n";
  }
  return text;
}

}  // namespace md::cli
