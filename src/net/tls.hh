#pragma once

// TLS settings of an endpoint, turned into an OpenSSL context once, when the
// endpoint is created (so a bad certificate, key or passphrase is reported
// before any socket opens). Streams use it to run the TLS handshake; see
// stream::start_tls. Mirrors real Broker (libbroker/broker/internal/
// connector.cc, ssl_context_from_cfg):
//
// - No certificate, key, CA file or CA path: anonymous ECDH (cipher
//   AECDH-AES256-SHA at security level 0, group P-384), no verification.
//   Encrypted, not authenticated. Anonymous suites exist only up to TLS 1.2,
//   so this mode is pinned to TLS 1.2.
// - Any of them set: certificate chain + private key (decrypted with the
//   passphrase), trusted CAs from file and/or directory, the peer must
//   present a certificate that chains to one of them (both sides), cipher
//   list HIGH:!aNULL:!MD5, TLS 1.2 or newer. Like real Broker, the peer's
//   host name is not checked: any certificate of the trusted CAs is
//   accepted.

#include "broker/configuration.hh"
#include "broker/expected.hh"

#include <memory>

namespace broker::net {

class tls_context {
public:
  ~tls_context();

  /// Builds the context of `cfg`. @returns an error naming the file and the
  /// problem when a certificate, key or CA cannot be used.
  static expected<std::shared_ptr<tls_context>> make(const configuration& cfg);

  /// Whether peers must present a trusted certificate.
  bool authenticated() const noexcept { return authenticated_; }

  /// The `asio::ssl::context*`, for src/net only.
  void* native_handle() noexcept;

private:
  struct impl;
  tls_context();
  std::unique_ptr<impl> impl_;
  bool authenticated_ = false;
};

using tls_context_ptr = std::shared_ptr<tls_context>;

/// Whether `cfg` asks for certificate authentication (any of certificate,
/// key, CA file, CA path set), as real Broker decides it.
bool tls_authentication_enabled(const configuration& cfg) noexcept;

} // namespace broker::net
