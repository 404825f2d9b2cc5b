#include "cli/node_client.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>
#include <iostream>

#include "cli/client_commands.h"
#include "security/credentials.h"

namespace md::cli {

void add_connection_options(CLI::App* cmd, NodeConnection& c) {
  cmd->add_option("--node", c.node, "Any node's HTTP address")->capture_default_str();
  cmd->add_option("--tls-ca", c.tls_ca, "The cluster's CA certificate (PEM): the node serves HTTPS (its --tls-ca)");
  cmd->add_option("--timeout-ms", c.timeout_ms, "Give up after this long")->capture_default_str();
  cmd->add_option("--user", c.user, "With --security on: the user, whose password is in MINIDYNAMO_PASSWORD or --password-file")
      ->envname("MINIDYNAMO_USER");
  cmd->add_option("--password-file", c.password_file, "A file holding --user's password (-: standard input)");
  cmd->add_option("--token-file", c.token_file,
                  "A file holding an API token (-: standard input); or set MINIDYNAMO_TOKEN");
}

std::optional<std::string> read_secret_file(const std::string& file, const char* flag) {
  if (file == "-") {
    std::string secret;
    std::getline(std::cin, secret);
    if (!secret.empty() && secret.back() == '\r') secret.pop_back();
    if (!secret.empty()) return secret;
    std::cerr << "error: " << flag << ": standard input held no line\n";
    return std::nullopt;
  }
  auto secret = security::read_secret_file(file);
  if (!secret.is_ok()) {
    std::cerr << "error: " << flag << " " << secret.status().message() << "\n";
    return std::nullopt;
  }
  return std::move(secret).value();
}

std::optional<JsonAnswer> request_json(net::HttpClient& client, boost::beast::http::verb verb, const std::string& target,
                                       const std::string& body) {
  auto result = client.request(verb, target, body);
  if (!result.is_ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return std::nullopt;
  }
  JsonAnswer answer{result->status, std::move(result->body), {}};
  answer.doc.Parse(answer.body.c_str());
  const bool is_object = !answer.doc.HasParseError() && answer.doc.IsObject();
  if (answer.status >= 300 || !is_object) {
    const bool has_error = is_object && answer.doc.HasMember("error") && answer.doc["error"].IsString();
    std::cerr << "error (HTTP " << answer.status << "): " << (has_error ? answer.doc["error"].GetString() : answer.body)
              << "\n";
    return std::nullopt;
  }
  return answer;
}

std::string json_string(const std::string& text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

void exit_with(CLI::App* cmd, std::function<int()> body) {
  cmd->callback([body = std::move(body)] {
    if (int code = body(); code != 0) throw CLI::RuntimeError(code);
  });
}

namespace {

// The credentials the flags and environment give; nullopt after printing what is wrong.
std::optional<security::Credentials> credentials_of(const NodeConnection& c) {
  using Kind = security::Credentials::Kind;
  const char* env_token = std::getenv("MINIDYNAMO_TOKEN");
  if (!c.token_file.empty() || (env_token && *env_token && c.user.empty())) {
    if (!c.user.empty()) {
      std::cerr << "error: give --user (with a password) or a token, not both\n";
      return std::nullopt;
    }
    auto token = c.token_file.empty() ? std::optional<std::string>(env_token) : read_secret_file(c.token_file, "--token-file");
    if (!token) return std::nullopt;
    return security::Credentials{Kind::token, {}, *token};
  }
  if (c.user.empty()) {
    if (!c.password_file.empty()) std::cerr << "error: --password-file needs --user\n";
    return c.password_file.empty() ? std::optional(security::Credentials{}) : std::nullopt;
  }
  std::optional<std::string> password;
  if (!c.password_file.empty()) {
    password = read_secret_file(c.password_file, "--password-file");
  } else if (const char* env = std::getenv("MINIDYNAMO_PASSWORD"); env && *env) {
    password = env;
  } else {
    std::cerr << "error: --user " << c.user << " needs a password: set MINIDYNAMO_PASSWORD or give --password-file\n";
  }
  if (!password) return std::nullopt;
  return security::Credentials{Kind::password, c.user, *password};
}

}  // namespace

std::unique_ptr<net::HttpClient> client_for(const NodeConnection& c) {
  auto address = parse_address(c.node);
  if (!address) {
    std::cerr << "error: --node must be host:port, got '" << c.node << "'\n";
    return nullptr;
  }
  auto credentials = credentials_of(c);
  if (!credentials) return nullptr;
  std::shared_ptr<net::TlsContext> tls;
  if (!c.tls_ca.empty()) {
    auto context = net::make_client_context(net::TlsFiles{"", "", c.tls_ca});
    if (!context.is_ok()) {
      std::cerr << "error: --tls-ca: " << context.status().message() << "\n";
      return nullptr;
    }
    tls = std::move(context).value();
  }
  auto client = std::make_unique<net::HttpClient>(address->first, address->second, c.timeout_ms, std::move(tls));
  client->set_authorization(security::authorization_header(*credentials));
  return client;
}

}  // namespace md::cli
