// TLS for the node's ports (OpenSSL through Asio's SSL streams): the contexts a node serves and
// connects with, built from PEM files and rebuilt on demand (a certificate renewed on disk is
// taken by the next connection; open connections keep the one they started with).
//
// Promises: TLS 1.2 or newer only, forward-secret AEAD cipher suites only (ECDHE with AES-GCM or
// ChaCha20-Poly1305; TLS 1.3's own suites), no compression, no renegotiation. The server context
// presents the node's certificate; with require_client_certificate it accepts only clients whose
// certificate the CA signed (mutual TLS, the peer port). The client context verifies the server's
// certificate against the CA and presents the node's own.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "core/status.h"

namespace md::net {

struct TlsFiles {
  std::string certificate;  // PEM: this node's certificate (and any intermediates)
  std::string key;          // PEM: its private key
  std::string ca;           // PEM: the CA that signs every node's certificate
};

using TlsContext = boost::asio::ssl::context;

// A server context for `files`; errors name the file that is missing, unreadable or wrong (a key
// that does not match the certificate, a certificate the CA did not sign).
Result<std::shared_ptr<TlsContext>> make_server_context(const TlsFiles& files, bool require_client_certificate);
// A client context that trusts only `files.ca` and presents `files.certificate` (a node's own), or
// no certificate when certificate and key are empty (a command-line client).
Result<std::shared_ptr<TlsContext>> make_client_context(const TlsFiles& files);

}  // namespace md::net
