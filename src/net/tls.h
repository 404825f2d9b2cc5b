// TLS for the node's ports (OpenSSL through Asio's SSL streams): the contexts a node serves and
// connects with, built from PEM files and rebuilt on demand (a certificate renewed on disk is
// taken by the next connection; open connections keep the one they started with).
//
// Promises: TLS 1.2 or newer only, forward-secret AEAD cipher suites only (ECDHE with AES-GCM or
// ChaCha20-Poly1305; TLS 1.3's own suites), no compression, no renegotiation. The server context
// presents the node's certificate and asks clients for theirs as ClientCertificate says. The client
// context verifies the server's certificate against the CA and presents the node's own.
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

// What a server context asks of the clients' certificates.
enum class ClientCertificate {
  not_asked,  // the RESP port: its clients (redis-cli) have none
  // The HTTP port: asked for, not required (curl presents none). A certificate the CA did not sign
  // does not fail the handshake either: the connection goes on with peer_certificate_verified()
  // false, so the API can answer what needs one (a join) with a clear refusal instead of an alert.
  requested,
  required,  // the peer port (mutual TLS): no certificate, or one the CA did not sign, fails the handshake
};

// A server context for `files`; errors name the file that is missing, unreadable or wrong (a key
// that does not match the certificate, a certificate the CA did not sign).
Result<std::shared_ptr<TlsContext>> make_server_context(const TlsFiles& files, ClientCertificate clients);
// A client context that trusts only `files.ca` and presents `files.certificate` (a node's own), or
// no certificate when certificate and key are empty (a command-line client).
Result<std::shared_ptr<TlsContext>> make_client_context(const TlsFiles& files);

// True when the other end of a completed handshake presented a certificate that verified against the CA.
bool peer_certificate_verified(const SSL* ssl);

}  // namespace md::net
