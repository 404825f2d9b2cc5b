#include "security/credentials.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <vector>

namespace md::security {

namespace {

constexpr uint64_t kScryptLogN = 15, kScryptR = 8, kScryptP = 1;
constexpr size_t kSaltBytes = 16, kKeyBytes = 32;
constexpr uint64_t kScryptMemoryMax = 64ull << 20;  // 128 * r * N = 32 MiB, with room

std::string hex(const unsigned char* bytes, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kDigits[bytes[i] >> 4];
    out += kDigits[bytes[i] & 15];
  }
  return out;
}

bool unhex(std::string_view text, std::vector<unsigned char>* out) {
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (text.size() % 2 != 0) return false;
  out->clear();
  for (size_t i = 0; i < text.size(); i += 2) {
    const int hi = digit(text[i]), lo = digit(text[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<unsigned char>(hi << 4 | lo));
  }
  return true;
}

std::vector<unsigned char> random_bytes(size_t size) {
  std::vector<unsigned char> buffer(size);
  if (RAND_bytes(buffer.data(), static_cast<int>(size)) != 1) throw std::runtime_error("OpenSSL's RAND_bytes failed");
  return buffer;
}

std::string random_hex(size_t size) {
  const auto bytes = random_bytes(size);
  return hex(bytes.data(), bytes.size());
}

bool scrypt(std::string_view password, const std::vector<unsigned char>& salt, uint64_t n, uint64_t r, uint64_t p,
            std::array<unsigned char, kKeyBytes>* key) {
  return EVP_PBE_scrypt(password.data(), password.size(), salt.data(), salt.size(), n, r, p, kScryptMemoryMax,
                        key->data(), key->size()) == 1;
}

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL's SHA-256 failed");
  }
  return hex(digest.data(), size);
}

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

}  // namespace

bool equal_in_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<Credentials> parse_authorization(std::string_view header) {
  while (!header.empty() && header.back() == ' ') header.remove_suffix(1);
  if (header.empty()) return Credentials{};
  const size_t space = header.find(' ');
  const std::string_view scheme = header.substr(0, space);
  std::string_view rest = space == std::string_view::npos ? std::string_view() : header.substr(space + 1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  if (iequals(scheme, "Bearer")) {
    if (rest.empty()) return Status::invalid_argument("Authorization: Bearer without a token");
    return Credentials{Credentials::Kind::token, {}, std::string(rest)};
  }
  if (!iequals(scheme, "Basic")) {
    return Status::invalid_argument("Authorization: the scheme must be Basic (user and password) or Bearer (a token)");
  }
  constexpr size_t kEncodedMax = 4096;
  if (rest.empty() || rest.size() % 4 != 0 || rest.size() > kEncodedMax) {
    return Status::invalid_argument("Authorization: Basic credentials are not base64 of user:password");
  }
  std::string decoded(rest.size() / 4 * 3, '\0');
  const int size = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(decoded.data()),
                                   reinterpret_cast<const unsigned char*>(rest.data()), static_cast<int>(rest.size()));
  if (size < 0) return Status::invalid_argument("Authorization: Basic credentials are not base64 of user:password");
  // EVP_DecodeBlock counts the padding's bytes as zeros.
  const size_t padding = rest.ends_with("==") ? 2 : rest.ends_with("=") ? 1 : 0;
  decoded.resize(static_cast<size_t>(size) - padding);
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::invalid_argument("Authorization: Basic credentials must be user:password");
  }
  return Credentials{Credentials::Kind::password, decoded.substr(0, colon), decoded.substr(colon + 1)};
}

std::string authorization_header(const Credentials& credentials) {
  switch (credentials.kind) {
    case Credentials::Kind::none: return {};
    case Credentials::Kind::token: return "Bearer " + credentials.secret;
    case Credentials::Kind::password: break;
  }
  const std::string plain = credentials.user + ":" + credentials.secret;
  std::string encoded((plain.size() + 2) / 3 * 4 + 1, '\0');
  const int size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                   reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size()));
  encoded.resize(static_cast<size_t>(size));
  return "Basic " + encoded;
}

Result<std::string> read_secret_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::invalid_argument(path + " cannot be read");
  std::string secret((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  if (secret.empty()) return Status::invalid_argument(path + " is empty");
  return secret;
}

std::string hash_password(std::string_view password) {
  const std::vector<unsigned char> salt = random_bytes(kSaltBytes);
  std::array<unsigned char, kKeyBytes> key{};
  if (!scrypt(password, salt, uint64_t{1} << kScryptLogN, kScryptR, kScryptP, &key)) {
    throw std::runtime_error("OpenSSL's scrypt failed");
  }
  return "scrypt$" + std::to_string(kScryptLogN) + "$" + std::to_string(kScryptR) + "$" + std::to_string(kScryptP) +
         "$" + hex(salt.data(), salt.size()) + "$" + hex(key.data(), key.size());
}

bool verify_password(std::string_view password, std::string_view encoded) {
  const auto parts = split(encoded, '$');
  // The parameters are read back, not assumed: hashes made under other costs stay valid.
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  uint64_t log_n = 0, r = 0, p = 0;
  for (auto [text, value] : {std::pair{parts[1], &log_n}, std::pair{parts[2], &r}, std::pair{parts[3], &p}}) {
    if (text.empty() || text.size() > 2 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    *value = std::stoull(std::string(text));
  }
  if (log_n < 10 || log_n > 20 || r == 0 || r > 16 || p == 0 || p > 4) return false;
  std::vector<unsigned char> salt, expected;
  if (!unhex(parts[4], &salt) || !unhex(parts[5], &expected) || expected.size() != kKeyBytes) return false;
  std::array<unsigned char, kKeyBytes> key{};
  if (!scrypt(password, salt, uint64_t{1} << log_n, r, p, &key)) return false;
  return CRYPTO_memcmp(key.data(), expected.data(), kKeyBytes) == 0;
}

NewToken new_token() {
  NewToken t;
  t.id = random_hex(8);
  t.token = "mdt_" + t.id + "_" + random_hex(32);
  t.digest = sha256_hex(t.token);
  return t;
}

std::string token_id(std::string_view token) {
  const auto parts = split(token, '_');
  if (parts.size() != 3 || parts[0] != "mdt" || parts[1].size() != 16 || parts[2].size() != 64) return {};
  std::vector<unsigned char> ignored;
  if (!unhex(parts[1], &ignored) || !unhex(parts[2], &ignored)) return {};
  return std::string(parts[1]);
}

std::string process_digest(std::string_view secret) {
  static const std::string key = random_hex(32);  // drawn once per process (a static's initialisation is thread-safe)
  // OpenSSL 3's one-shot HMAC() looks the algorithms up on every call, a few microseconds on every
  // authenticated request; each thread keeps the HMAC it fetched once and only sets the key again.
  struct Mac {
    Mac() {
      char digest_name[] = "SHA256";
      const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0), OSSL_PARAM_construct_end()};
      if (!context || EVP_MAC_CTX_set_params(context.get(), params) != 1) throw std::runtime_error("OpenSSL's HMAC is missing");
    }
    std::unique_ptr<EVP_MAC, decltype(&EVP_MAC_free)> mac{EVP_MAC_fetch(nullptr, "HMAC", nullptr), &EVP_MAC_free};
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> context{mac ? EVP_MAC_CTX_new(mac.get()) : nullptr,
                                                                      &EVP_MAC_CTX_free};
  };
  thread_local Mac hmac;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  size_t size = 0;
  if (EVP_MAC_init(hmac.context.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(), nullptr) != 1 ||
      EVP_MAC_update(hmac.context.get(), reinterpret_cast<const unsigned char*>(secret.data()), secret.size()) != 1 ||
      EVP_MAC_final(hmac.context.get(), digest.data(), &size, digest.size()) != 1) {
    throw std::runtime_error("OpenSSL's HMAC failed");
  }
  return hex(digest.data(), size);
}

bool verify_token(std::string_view token, std::string_view digest) {
  return equal_in_constant_time(sha256_hex(token), digest);
}

}  // namespace md::security
