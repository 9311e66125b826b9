// RAII owners for OpenSSL objects and the few PEM/file helpers the http layer shares. Internal to
// common/http: callers outside it see PEM strings and kprof types, not OpenSSL.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/core/result.hpp"

namespace kprof::http::ossl {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* object) const {
    Free(object);
  }
};

using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using PKeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using X509ExtensionPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
using GeneralNamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BN_free>>;
using SslCtxPtr = std::unique_ptr<SSL_CTX, Deleter<SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, Deleter<SSL_free>>;

// The OpenSSL errors queued on this thread as one line, emptying the queue so a later failure
// does not report a stale reason.
std::string takeErrors();

// Every certificate in a PEM bundle, leaf first. Fails with Parse when there is none.
Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem);
Result<PKeyPtr> parsePrivateKey(std::string_view pem);

Result<std::string> toPem(X509* certificate);
Result<std::string> toPem(EVP_PKEY* key);

// Reads a whole small file (certificates, keys); larger than max_bytes is an error, not a
// truncation, so a wrong path to a big file fails clearly.
Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes = 1 << 20);

}  // namespace kprof::http::ossl
