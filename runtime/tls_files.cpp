#include "runtime/tls_files.hpp"

#include <memory>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace tidewatch {

namespace {

/// OpenSSL's reason for the latest failure, or `fallback`.
std::string openssl_reason(const char* fallback) {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return fallback;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

} // namespace

bool check_tls_files(const std::string& certificate, const std::string& key,
                     const std::string& ca_file, std::string& error) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{SSL_CTX_new(TLS_method()), SSL_CTX_free};
  if (!ctx) {
    error = openssl_reason("cannot create a TLS context");
    return false;
  }
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), certificate.c_str()) != 1) {
    error = "certificate " + certificate + ": " + openssl_reason("does not load");
    return false;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM) != 1) {
    error = "key " + key + ": " + openssl_reason("does not load");
    return false;
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    error = "key " + key + " does not match certificate " + certificate;
    ERR_clear_error();
    return false;
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1) {
    error = "ca_file " + ca_file + ": " + openssl_reason("does not load");
    return false;
  }
  return true;
}

} // namespace tidewatch
