// The serving certificate of a TLS server, kept in step with its files on disk so a rotated
// certificate (cert-manager, a Secret volume update, kprof's own webhook cert manager) is served
// without a restart.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <openssl/x509.h>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"

namespace kprof::http {

// A validated certificate chain and matching private key, ready for a handshake. Immutable.
class TlsIdentity {
 public:
  // The first certificate of `certificate_chain_pem` is the leaf, the rest intermediates.
  // Fails when either part is malformed or the key does not belong to the leaf.
  static Result<std::shared_ptr<const TlsIdentity>> fromPem(std::string_view certificate_chain_pem,
                                                            std::string_view private_key_pem);
  ~TlsIdentity();
  TlsIdentity(const TlsIdentity&) = delete;
  TlsIdentity& operator=(const TlsIdentity&) = delete;

  // Installs the chain and key on one connection (from a certificate callback).
  Status applyTo(SSL* connection) const;
  // Installs the chain and key on a context, for the connections created from it.
  Status applyTo(SSL_CTX* context) const;

  const std::string& certificatePem() const { return certificate_pem_; }

 private:
  TlsIdentity() = default;

  X509* leaf_ = nullptr;
  STACK_OF(X509) * intermediates_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  std::string certificate_pem_;
};

struct CertificateFiles {
  std::string certificate_file;  // PEM chain, leaf first
  std::string private_key_file;  // PEM private key
};

// Hands out the current TlsIdentity and reloads it when the files change. At most once per
// check_interval it re-reads both files (they are small) and compares their bytes with what it
// last tried; only a change triggers a load. A pair that fails to load — half-written, mismatched
// during a rotation, missing for a moment — is counted and the last good pair keeps serving.
// Thread-safe.
class CertificateStore {
 public:
  struct Stats {
    std::uint64_t reloads = 0;         // successful loads after the first
    std::uint64_t failed_reloads = 0;  // checks that found unreadable files or an invalid pair
    std::string last_error;            // why the latest failed load failed; empty if none
  };

  // The first load must succeed: a server without a certificate should not start.
  static Result<std::shared_ptr<CertificateStore>> open(CertificateFiles files,
                                                        std::chrono::milliseconds check_interval,
                                                        const Clock& clock);

  // The pair to present now, after checking the files if check_interval has passed.
  std::shared_ptr<const TlsIdentity> current();
  Stats stats() const;
  const CertificateFiles& files() const { return files_; }

 private:
  CertificateStore(CertificateFiles files,
                   std::chrono::milliseconds check_interval,
                   const Clock& clock);
  void reloadIfChanged();

  const CertificateFiles files_;
  const std::chrono::milliseconds check_interval_;
  const Clock& clock_;

  mutable std::mutex mutex_;
  std::shared_ptr<const TlsIdentity> identity_;
  std::string attempted_certificate_;  // file bytes of the last load attempt
  std::string attempted_key_;
  Clock::SteadyTime next_check_{};
  Stats stats_;
};

}  // namespace kprof::http
