// kprof's TLS settings, applied to the OpenSSL contexts that cpprestsdk creates per connection.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <openssl/types.h>

#include "common/core/result.hpp"
#include "common/http/certificate_store.hpp"

namespace kprof::http {

// TLS 1.2 ciphers: forward-secret AEAD only (Mozilla "intermediate"). TLS 1.3 suites are
// OpenSSL's defaults, all of which are AEAD.
inline constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Server side: TLS 1.2 minimum (1.3 allowed), the cipher list above with server preference,
// no compression, no renegotiation, no session tickets (each connection has its own context, so
// tickets could never be redeemed). The certificate is taken from `store` during each handshake
// (certificate callback), so a rotated pair is used from the next connection on. The context
// keeps `store` alive.
Status applyServerTlsPolicy(SSL_CTX* context, std::shared_ptr<CertificateStore> store);

// What a client trusts and presents. PEM text; files are read by the caller.
struct ClientTlsMaterial {
  std::string ca_pem;                  // empty: the system trust store
  std::string client_certificate_pem;  // leaf first; empty: no client certificate
  std::string client_key_pem;
};

// Parsed once, applied to every client connection's context.
class ClientTlsIdentity {
 public:
  static Result<std::shared_ptr<const ClientTlsIdentity>> fromMaterial(
      const ClientTlsMaterial& material);
  ~ClientTlsIdentity();
  ClientTlsIdentity(const ClientTlsIdentity&) = delete;
  ClientTlsIdentity& operator=(const ClientTlsIdentity&) = delete;

  // TLS 1.2 minimum; when a CA was given, trust only it; present the client pair if given.
  Status applyTo(SSL_CTX* context) const;

 private:
  ClientTlsIdentity() = default;

  std::vector<X509*> authorities_;
  std::shared_ptr<const TlsIdentity> client_pair_;
};

}  // namespace kprof::http
