#include "net/tls.h"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <fstream>

namespace md::net {
namespace {

namespace ssl = boost::asio::ssl;

// Forward-secret AEAD suites for TLS 1.2 (TLS 1.3 has only such suites, on by default).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

Status readable(const std::string& path, const char* what) {
  if (path.empty()) return Status::invalid_argument(std::string("no ") + what + " file was given");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_argument(std::string("cannot read the ") + what + " file " + path);
  return Status::ok();
}

Status bad(const std::string& what, const boost::system::error_code& ec) {
  return Status::invalid_argument(what + ": " + ec.message());
}

// The settings both ends share, the CA, and the node's own certificate and key (unless a client
// has none: both empty), checked against the CA.
Status configure(TlsContext& ctx, const TlsFiles& files) {
  const bool own = !files.certificate.empty() || !files.key.empty();
  for (auto [path, what] : {std::pair{&files.certificate, "certificate"}, std::pair{&files.key, "key"},
                            std::pair{&files.ca, "CA certificate"}}) {
    if (!own && path != &files.ca) continue;
    if (auto s = readable(*path, what); !s.is_ok()) return s;
  }
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_compression | ssl::context::no_sslv2 |
                  ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_cipher_list(native, kTls12Ciphers);
  boost::system::error_code ec;
  ctx.load_verify_file(files.ca, ec);
  if (ec) return bad("the CA file " + files.ca + " holds no PEM certificate", ec);
  if (!own) return Status::ok();
  ctx.use_certificate_chain_file(files.certificate, ec);
  if (ec) return bad("the certificate file " + files.certificate + " holds no PEM certificate", ec);
  ctx.use_private_key_file(files.key, ssl::context::pem, ec);
  if (ec || SSL_CTX_check_private_key(native) != 1) {
    return Status::invalid_argument("the key file " + files.key + " is not the PEM private key of the certificate in " +
                                    files.certificate + (ec ? ": " + ec.message() : std::string()));
  }
  // Refuse at start a certificate that every peer would refuse at connect.
  X509_STORE_CTX* check = X509_STORE_CTX_new();
  X509_STORE_CTX_init(check, SSL_CTX_get_cert_store(native), SSL_CTX_get0_certificate(native), nullptr);
  const bool signed_by_ca = X509_verify_cert(check) == 1;
  const int why = X509_STORE_CTX_get_error(check);
  X509_STORE_CTX_free(check);
  if (!signed_by_ca) {
    return Status::invalid_argument("the certificate in " + files.certificate + " does not verify against the CA in " +
                                    files.ca + ": " + X509_verify_cert_error_string(why));
  }
  return Status::ok();
}

}  // namespace

namespace {

// The verification's verdict stays in the connection (SSL_get_verify_result) for
// peer_certificate_verified(); accepting here only lets the handshake finish.
int accept_and_keep_verdict(int /*preverified*/, X509_STORE_CTX* /*chain*/) { return 1; }

}  // namespace

Result<std::shared_ptr<TlsContext>> make_server_context(const TlsFiles& files, ClientCertificate clients) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_server);
  if (auto s = configure(*ctx, files); !s.is_ok()) return s;
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  switch (clients) {
    case ClientCertificate::not_asked: break;
    case ClientCertificate::requested: SSL_CTX_set_verify(native, SSL_VERIFY_PEER, accept_and_keep_verdict); break;
    case ClientCertificate::required: ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert); break;
  }
  return ctx;
}

Result<std::shared_ptr<TlsContext>> make_client_context(const TlsFiles& files) {
  auto ctx = std::make_shared<TlsContext>(TlsContext::tls_client);
  if (auto s = configure(*ctx, files); !s.is_ok()) return s;
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

bool peer_certificate_verified(const SSL* ssl) {
  // No certificate leaves the result X509_V_OK, so its presence is checked too.
  return SSL_get0_peer_certificate(ssl) != nullptr && SSL_get_verify_result(ssl) == X509_V_OK;
}

}  // namespace md::net
