// How a command-line client reaches a node: its address, the CA when it serves TLS, and the
// credentials when it runs with --security on. Every client command (get, put, delete, status,
// keys, user) takes these flags.
#pragma once

#include <CLI/CLI.hpp>
#include <rapidjson/document.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/http_client.h"

namespace md::cli {

struct NodeConnection {
  std::string node = "127.0.0.1:5001";
  std::string tls_ca;  // the cluster's CA: the node serves TLS (its --tls-ca)
  uint32_t timeout_ms = 5000;
  // Credentials, never given on the command line itself (other users see it in `ps`): the user
  // with MINIDYNAMO_PASSWORD or --password-file, or a token from MINIDYNAMO_TOKEN or --token-file.
  std::string user;
  std::string password_file;
  std::string token_file;
};

void add_connection_options(CLI::App* cmd, NodeConnection& c);

// A client for the node, with its TLS and credentials; nullptr after printing what is wrong.
std::unique_ptr<net::HttpClient> client_for(const NodeConnection& c);

// A secret read from `file` ("-": standard input), its trailing newline dropped; nullopt after
// printing what is wrong. `flag` names it in errors.
std::optional<std::string> read_secret_file(const std::string& file, const char* flag);

// A node's answer that is a JSON object, as it came and parsed.
struct JsonAnswer {
  unsigned status = 0;
  std::string body;
  rapidjson::Document doc;
};

// Sends one request and takes its answer; nullopt after printing what is wrong: the node could not
// be reached, refused the request (its error message, with the HTTP status) or did not answer JSON.
std::optional<JsonAnswer> request_json(net::HttpClient& client, boost::beast::http::verb verb, const std::string& target,
                                       const std::string& body = "");

// `text` as a JSON string, quoted and escaped.
std::string json_string(const std::string& text);

// Runs `body` as the command's callback: a non-zero code it returns is the process's exit code.
void exit_with(CLI::App* cmd, std::function<int()> body);

}  // namespace md::cli
