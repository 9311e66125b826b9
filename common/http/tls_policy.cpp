#include "common/http/tls_policy.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/http/http_log.hpp"
#include "common/http/openssl_handles.hpp"

namespace kprof::http {
namespace {

using StoreHolder = std::shared_ptr<CertificateStore>;

// The context owns a reference to its store through this ex_data slot, released with the context.
int storeSlot() {
  static const int slot = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* holder, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<StoreHolder*>(holder);
      });
  return slot;
}

// Runs inside the handshake, after ClientHello: picks up the store's current pair.
int selectServingCertificate(SSL* connection, void* argument) {
  auto* store = static_cast<StoreHolder*>(argument);
  std::shared_ptr<const TlsIdentity> identity = (*store)->current();
  if (!identity) {
    return 0;
  }
  Status installed = identity->applyTo(connection);
  if (!installed) {
    httpLog().error("TLS handshake aborted: {}", installed.error().toString());
    return 0;
  }
  return 1;
}

}  // namespace

Status applyServerTlsPolicy(SSL_CTX* context, std::shared_ptr<CertificateStore> store) {
  if (!store) {
    return fail(ErrorCode::InvalidArgument, "TLS needs a certificate store");
  }
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(context, 0) != 1 ||
      SSL_CTX_set_cipher_list(context, kTls12Ciphers) != 1) {
    return fail(ErrorCode::Internal, "configuring TLS versions/ciphers: " + ossl::takeErrors());
  }
  SSL_CTX_set_options(context,
                      SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                          SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
  int slot = storeSlot();
  if (slot < 0 || SSL_CTX_get_ex_data(context, slot) != nullptr) {
    return fail(ErrorCode::Internal, "certificate store slot unavailable or already set");
  }
  auto* holder = new StoreHolder(std::move(store));
  if (SSL_CTX_set_ex_data(context, slot, holder) != 1) {
    delete holder;
    return fail(ErrorCode::Internal, "attaching certificate store: " + ossl::takeErrors());
  }
  SSL_CTX_set_cert_cb(context, &selectServingCertificate, holder);
  return ok();
}

Result<std::shared_ptr<const ClientTlsIdentity>> ClientTlsIdentity::fromMaterial(
    const ClientTlsMaterial& material) {
  std::shared_ptr<ClientTlsIdentity> identity(new ClientTlsIdentity());
  if (!material.ca_pem.empty()) {
    auto authorities = ossl::parseCertificates(material.ca_pem);
    if (!authorities) {
      return authorities.error().wrap("CA bundle");
    }
    for (ossl::X509Ptr& authority : *authorities) {
      identity->authorities_.push_back(authority.release());
    }
  }
  bool has_certificate = !material.client_certificate_pem.empty();
  bool has_key = !material.client_key_pem.empty();
  if (has_certificate != has_key) {
    return fail(ErrorCode::InvalidArgument, "a client certificate needs its key and vice versa");
  }
  if (has_certificate) {
    auto pair = TlsIdentity::fromPem(material.client_certificate_pem, material.client_key_pem);
    if (!pair) {
      return pair.error().wrap("client certificate");
    }
    identity->client_pair_ = std::move(*pair);
  }
  return std::shared_ptr<const ClientTlsIdentity>(std::move(identity));
}

ClientTlsIdentity::~ClientTlsIdentity() {
  for (X509* authority : authorities_) {
    X509_free(authority);
  }
}

Status ClientTlsIdentity::applyTo(SSL_CTX* context) const {
  if (SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) != 1) {
    return fail(ErrorCode::Internal, "configuring TLS version: " + ossl::takeErrors());
  }
  if (!authorities_.empty()) {
    // Replace the default (system) store: a kubeconfig CA is the only authority for its server.
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr) {
      return fail(ErrorCode::Internal, "allocating trust store: " + ossl::takeErrors());
    }
    SSL_CTX_set_cert_store(context, store);
    for (X509* authority : authorities_) {
      if (X509_STORE_add_cert(store, authority) != 1) {
        return fail(ErrorCode::Internal, "adding CA: " + ossl::takeErrors());
      }
    }
  }
  if (client_pair_) {
    // On the context: cpprestsdk creates the connection from it after this callback.
    return client_pair_->applyTo(context);
  }
  return ok();
}

}  // namespace kprof::http
