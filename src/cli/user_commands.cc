#include "cli/user_commands.h"

#include <rapidjson/document.h>

#include <iostream>
#include <memory>

#include "cli/node_client.h"
#include "cli/table.h"
#include "net/http_client.h"

namespace md::cli {
namespace {

namespace http = boost::beast::http;

struct UserOptions : NodeConnection {
  std::string name;
  std::string new_password_file;  // add, passwd
  std::string prefix;             // grant, revoke
  std::string permissions;        // grant, revoke
  std::string revoke_token;       // token --revoke ID
  bool json = false;
};

// Prints the users an answer lists, a line each (or the JSON as it came, with --json).
void print_users(const rapidjson::Document& doc) {
  Table table({{"USER"}, {"PASSWORD"}, {"GRANTS (prefix: permissions)"}, {"TOKENS"}});
  for (const auto& u : doc["users"].GetArray()) {
    std::string grants, tokens;
    for (const auto& g : u["grants"].GetArray()) {
      if (!grants.empty()) grants += "; ";
      grants += json_string(g["prefix"].GetString()) + ": " + g["permissions"].GetString();
    }
    for (const auto& t : u["tokens"].GetArray()) tokens += (tokens.empty() ? "" : ",") + std::string(t.GetString());
    table.add_row({u["name"].GetString(), u["password"].GetBool() ? "set" : "-", grants.empty() ? "-" : grants,
                   tokens.empty() ? "-" : tokens});
  }
  table.print();
}

int run(const UserOptions& o, http::verb verb, const std::string& target, const std::string& body) {
  auto client = client_for(o);
  if (!client) return 2;
  auto answer = request_json(*client, verb, target, body);
  if (!answer) return 1;
  const auto& doc = answer->doc;
  if (o.json) {
    std::cout << answer->body << "\n";
  } else if (doc.HasMember("token")) {
    std::cout << doc["token"].GetString() << "\n";
    std::cerr << "token " << doc["id"].GetString() << " for " << doc["user"].GetString()
              << ": shown once, keep it now (revoke it with `minidynamo user token " << doc["user"].GetString()
              << " --revoke " << doc["id"].GetString() << "`)\n";
  } else {
    print_users(doc);
  }
  return 0;
}

std::string user_path(const UserOptions& o) { return "/admin/users/" + net::url_encode_path_segment(o.name); }

CLI::App* add(CLI::App* user, const char* name, const char* help, const std::shared_ptr<UserOptions>& o,
              bool names_user = true) {
  auto* cmd = user->add_subcommand(name, help);
  if (names_user) cmd->add_option("name", o->name, "The user")->required();
  cmd->add_flag("--json", o->json, "Print the node's JSON answer");
  add_connection_options(cmd, *o);
  return cmd;
}

}  // namespace

void add_user_commands(CLI::App& app) {
  auto* user = app.add_subcommand("user", "Manage users, their grants and API tokens (--security on; needs admin)");
  user->require_subcommand(1);
  auto o = std::make_shared<UserOptions>();

  auto* cmd = add(user, "list", "List the users with their grants and token ids", o, false);
  exit_with(cmd, [o] { return run(*o, http::verb::get, "/admin/users", ""); });

  for (auto [name, help] : {std::pair{"add", "Add a user with a password (no grants yet)"},
                            std::pair{"passwd", "Set a user's password"}}) {
    cmd = add(user, name, help, o);
    cmd->add_option("--new-password-file", o->new_password_file, "A file holding the new password (-: standard input)")
        ->required();
    exit_with(cmd, [o] {
      auto password = read_secret_file(o->new_password_file, "--new-password-file");
      if (!password) return 2;
      return run(*o, http::verb::put, user_path(*o), "{\"password\":" + json_string(*password) + "}");
    });
  }

  cmd = add(user, "remove", "Remove a user: its password, tokens and grants stop working on every node", o);
  exit_with(cmd, [o] { return run(*o, http::verb::delete_, user_path(*o), ""); });

  cmd = add(user, "grant", "Allow a user operations on the keys under a prefix", o);
  cmd->add_option("--prefix", o->prefix, "Keys starting with this (\"\" or left out: every key)");
  cmd->add_option("--permissions", o->permissions, "read, write, delete, list, admin or all, separated by commas")
      ->required();
  exit_with(cmd, [o] {
    return run(*o, http::verb::put, user_path(*o) + "/grants",
               "{\"prefix\":" + json_string(o->prefix) + ",\"permissions\":" + json_string(o->permissions) + "}");
  });

  cmd = add(user, "revoke", "Take permissions on a prefix away from a user (all of them without --permissions)", o);
  cmd->add_option("--prefix", o->prefix, "The grant's prefix (\"\" or left out: every key)");
  cmd->add_option("--permissions", o->permissions, "Only these (read, write, delete, list, admin)");
  exit_with(cmd, [o] {
    std::string body = "{\"prefix\":" + json_string(o->prefix);
    if (!o->permissions.empty()) body += ",\"permissions\":" + json_string(o->permissions);
    return run(*o, http::verb::delete_, user_path(*o) + "/grants", body + "}");
  });

  cmd = add(user, "token", "Make an API token for a user (printed once), or revoke one with --revoke ID", o);
  cmd->add_option("--revoke", o->revoke_token, "The id of the token to revoke (`user list` shows them)");
  exit_with(cmd, [o] {
    if (!o->revoke_token.empty()) {
      return run(*o, http::verb::delete_, user_path(*o) + "/tokens/" + net::url_encode_path_segment(o->revoke_token), "");
    }
    return run(*o, http::verb::post, user_path(*o) + "/tokens", "");
  });
}

}  // namespace md::cli
