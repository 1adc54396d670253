#include "net/tls.hh"

#include "net/asio.hh"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace broker::net {

namespace {

/// The first queued OpenSSL error as text, and clears the queue.
std::string openssl_reason() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  // "error:0480006C:PEM routines::no start line" -> keep the last part.
  std::string text = buf;
  if (auto pos = text.rfind(':'); pos != std::string::npos
                                  && pos + 1 < text.size())
    return text.substr(pos + 1);
  return text;
}

/// Checks that `path` names a readable regular file (or directory).
std::optional<error> check_readable(const char* setting,
                                    const std::string& path, bool directory) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || ::access(path.c_str(), R_OK) != 0)
    return error{ec::cannot_open_file, std::string{setting} + ": cannot read "
                                         + path + ": " + std::strerror(errno)};
  bool is_dir = S_ISDIR(st.st_mode);
  if (directory && !is_dir)
    return error{ec::cannot_open_file,
                 std::string{setting} + ": " + path + " is not a directory"};
  if (!directory && is_dir)
    return error{ec::cannot_open_file,
                 std::string{setting} + ": " + path + " is a directory"};
  return std::nullopt;
}

} // namespace

struct tls_context::impl {
  asio::ssl::context ctx{asio::ssl::context::tls};
};

tls_context::tls_context() : impl_(std::make_unique<impl>()) {}

tls_context::~tls_context() = default;

void* tls_context::native_handle() noexcept {
  return &impl_->ctx;
}

bool tls_authentication_enabled(const configuration& cfg) noexcept {
  return !cfg.certificate_file.empty() || !cfg.key_file.empty()
         || !cfg.ca_file.empty() || !cfg.ca_path.empty();
}

expected<std::shared_ptr<tls_context>>
tls_context::make(const configuration& cfg) {
  std::shared_ptr<tls_context> result{new tls_context};
  auto& ctx = result->impl_->ctx;
  auto* hdl = ctx.native_handle();
  ERR_clear_error();
  SSL_CTX_set_min_proto_version(hdl, TLS1_2_VERSION);
  // Never let OpenSSL prompt on the terminal for a key's passphrase: an
  // encrypted key without a configured passphrase is simply an error.
  ctx.set_password_callback(
    [pw = cfg.passphrase](std::size_t, asio::ssl::context::password_purpose) {
      return pw;
    });
  if (!tls_authentication_enabled(cfg)) {
    ctx.set_verify_mode(asio::ssl::verify_none);
    // Anonymous suites do not exist in TLS 1.3.
    SSL_CTX_set_max_proto_version(hdl, TLS1_2_VERSION);
    // Real Broker offers only AECDH-AES256-SHA (ECDH on P-384, AES-CBC with
    // HMAC-SHA1), and negotiates it with us. Between two of our endpoints
    // the anonymous AEAD suite ADH-AES256-GCM-SHA384 comes first: OpenSSL
    // 3 spends tens of microseconds per small record on CBC+HMAC, which
    // doubled our round-trip time, and next to nothing on GCM. Its DH
    // group is chosen by OpenSSL for a 256-bit cipher (ffdhe3072).
    if (SSL_CTX_set1_groups_list(hdl, "P-384") != 1
        || SSL_CTX_set_cipher_list(
             hdl, "ADH-AES256-GCM-SHA384:AECDH-AES256-SHA@SECLEVEL=0")
             != 1
        || SSL_CTX_set_dh_auto(hdl, 1) != 1)
      return error{ec::unspecified,
                   "cannot enable anonymous TLS: " + openssl_reason()};
    return result;
  }
  result->authenticated_ = true;
  // Authentication needs our own certificate and key (the peer insists on
  // one) and somewhere to find trusted CAs (we insist on the peer's).
  if (cfg.certificate_file.empty() || cfg.key_file.empty())
    return error{ec::invalid_data,
                 "TLS authentication needs both openssl_certificate and "
                 "openssl_key"};
  if (cfg.ca_file.empty() && cfg.ca_path.empty())
    return error{ec::invalid_data, "TLS authentication needs openssl_cafile "
                                   "or openssl_capath to verify peers"};
  if (auto err = check_readable("openssl_certificate", cfg.certificate_file,
                                false))
    return *err;
  if (SSL_CTX_use_certificate_chain_file(hdl, cfg.certificate_file.c_str())
      != 1)
    return error{ec::invalid_data, "openssl_certificate: cannot load "
                                     + cfg.certificate_file + ": "
                                     + openssl_reason()};
  if (auto err = check_readable("openssl_key", cfg.key_file, false))
    return *err;
  if (SSL_CTX_use_PrivateKey_file(hdl, cfg.key_file.c_str(), SSL_FILETYPE_PEM)
      != 1) {
    if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH)
      return error{ec::invalid_data, "openssl_key: " + cfg.key_file
                                       + " does not match the certificate "
                                       + cfg.certificate_file + ": "
                                       + openssl_reason()};
    auto why = openssl_reason();
    return error{ec::invalid_data,
                 "openssl_key: cannot load " + cfg.key_file + ": " + why
                   + (cfg.passphrase.empty()
                        ? " (encrypted key without openssl_passphrase?)"
                        : " (wrong openssl_passphrase?)")};
  }
  if (SSL_CTX_check_private_key(hdl) != 1)
    return error{ec::invalid_data, "openssl_key: " + cfg.key_file
                                     + " does not match the certificate "
                                     + cfg.certificate_file + ": "
                                     + openssl_reason()};
  if (!cfg.ca_file.empty()) {
    if (auto err = check_readable("openssl_cafile", cfg.ca_file, false))
      return *err;
    if (SSL_CTX_load_verify_locations(hdl, cfg.ca_file.c_str(), nullptr) != 1)
      return error{ec::invalid_data, "openssl_cafile: cannot load "
                                       + cfg.ca_file + ": " + openssl_reason()};
  }
  if (!cfg.ca_path.empty()) {
    if (auto err = check_readable("openssl_capath", cfg.ca_path, true))
      return *err;
    if (SSL_CTX_load_verify_locations(hdl, nullptr, cfg.ca_path.c_str()) != 1)
      return error{ec::invalid_data, "openssl_capath: cannot use "
                                       + cfg.ca_path + ": " + openssl_reason()};
  }
  ctx.set_verify_mode(asio::ssl::verify_peer
                      | asio::ssl::verify_fail_if_no_peer_cert);
  if (SSL_CTX_set_cipher_list(hdl, "HIGH:!aNULL:!MD5") != 1)
    return error{ec::unspecified,
                 "cannot set the TLS cipher list: " + openssl_reason()};
  return result;
}

} // namespace broker::net
