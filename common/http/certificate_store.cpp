#include "common/http/certificate_store.hpp"

#include <openssl/err.h>

#include "common/http/http_log.hpp"
#include "common/http/openssl_handles.hpp"

namespace kprof::http {

Result<std::shared_ptr<const TlsIdentity>> TlsIdentity::fromPem(
    std::string_view certificate_chain_pem, std::string_view private_key_pem) {
  auto chain = ossl::parseCertificates(certificate_chain_pem);
  if (!chain) {
    return chain.error().wrap("certificate");
  }
  auto key = ossl::parsePrivateKey(private_key_pem);
  if (!key) {
    return key.error().wrap("private key");
  }
  if (X509_check_private_key(chain->front().get(), key->get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidArgument, "private key does not match the certificate");
  }
  std::shared_ptr<TlsIdentity> identity(new TlsIdentity());
  identity->intermediates_ = sk_X509_new_null();
  if (identity->intermediates_ == nullptr) {
    return fail(ErrorCode::Internal, "allocating certificate chain");
  }
  for (std::size_t i = 1; i < chain->size(); ++i) {
    if (sk_X509_push(identity->intermediates_, (*chain)[i].get()) <= 0) {
      return fail(ErrorCode::Internal, "building certificate chain");
    }
    (*chain)[i].release();
  }
  identity->leaf_ = chain->front().release();
  identity->key_ = key->release();
  identity->certificate_pem_ = std::string(certificate_chain_pem);
  return std::shared_ptr<const TlsIdentity>(std::move(identity));
}

TlsIdentity::~TlsIdentity() {
  X509_free(leaf_);
  EVP_PKEY_free(key_);
  sk_X509_pop_free(intermediates_, X509_free);
}

Status TlsIdentity::applyTo(SSL* connection) const {
  if (SSL_use_certificate(connection, leaf_) != 1 || SSL_use_PrivateKey(connection, key_) != 1 ||
      SSL_set1_chain(connection, intermediates_) != 1) {
    return fail(ErrorCode::Internal, "installing certificate: " + ossl::takeErrors());
  }
  return ok();
}

Status TlsIdentity::applyTo(SSL_CTX* context) const {
  if (SSL_CTX_use_certificate(context, leaf_) != 1 || SSL_CTX_use_PrivateKey(context, key_) != 1 ||
      SSL_CTX_set1_chain(context, intermediates_) != 1) {
    return fail(ErrorCode::Internal, "installing certificate: " + ossl::takeErrors());
  }
  return ok();
}

CertificateStore::CertificateStore(CertificateFiles files,
                                   std::chrono::milliseconds check_interval,
                                   const Clock& clock)
    : files_(std::move(files)), check_interval_(check_interval), clock_(clock) {}

Result<std::shared_ptr<CertificateStore>> CertificateStore::open(
    CertificateFiles files, std::chrono::milliseconds check_interval, const Clock& clock) {
  std::shared_ptr<CertificateStore> store(
      new CertificateStore(std::move(files), check_interval, clock));
  auto certificate = ossl::readSmallFile(store->files_.certificate_file);
  if (!certificate) {
    return certificate.error().wrap("loading serving certificate");
  }
  auto key = ossl::readSmallFile(store->files_.private_key_file);
  if (!key) {
    return key.error().wrap("loading serving key");
  }
  auto identity = TlsIdentity::fromPem(*certificate, *key);
  if (!identity) {
    return identity.error().wrap("loading " + store->files_.certificate_file);
  }
  store->identity_ = std::move(*identity);
  store->attempted_certificate_ = std::move(*certificate);
  store->attempted_key_ = std::move(*key);
  store->next_check_ = clock.now() + check_interval;
  return store;
}

std::shared_ptr<const TlsIdentity> CertificateStore::current() {
  std::lock_guard lock(mutex_);
  if (clock_.now() >= next_check_) {
    reloadIfChanged();
    next_check_ = clock_.now() + check_interval_;
  }
  return identity_;
}

CertificateStore::Stats CertificateStore::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void CertificateStore::reloadIfChanged() {
  auto certificate = ossl::readSmallFile(files_.certificate_file);
  auto key = ossl::readSmallFile(files_.private_key_file);
  Status loaded = ok();
  if (!certificate || !key) {
    // Missing for a moment during an atomic symlink swap, or gone: keep serving, retry later.
    loaded = (!certificate ? certificate : key).error();
  } else if (*certificate == attempted_certificate_ && *key == attempted_key_) {
    return;
  } else {
    attempted_certificate_ = *certificate;
    attempted_key_ = *key;
    auto identity = TlsIdentity::fromPem(*certificate, *key);
    if (identity) {
      identity_ = std::move(*identity);
      ++stats_.reloads;
      stats_.last_error.clear();
      httpLog().info("reloaded serving certificate from {}", files_.certificate_file);
      return;
    }
    loaded = identity.error();
  }
  ++stats_.failed_reloads;
  std::string reason = loaded.error().toString();
  // A file that stays missing is retried every interval; say so once, not every time.
  if (reason != stats_.last_error) {
    httpLog().warn("keeping the previous serving certificate: {}", reason);
  }
  stats_.last_error = std::move(reason);
}

}  // namespace kprof::http
