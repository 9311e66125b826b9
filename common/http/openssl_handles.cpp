#include "common/http/openssl_handles.hpp"

#include <fstream>

#include <openssl/err.h>
#include <openssl/pem.h>

namespace kprof::http::ossl {

std::string takeErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) {
      text += "; ";
    }
    text += buffer;
  }
  return text.empty() ? std::string("unknown OpenSSL error") : text;
}

namespace {

BioPtr memoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

Result<std::string> drainBio(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  if (size < 0 || (size > 0 && data == nullptr)) {
    return fail(ErrorCode::Internal, "reading PEM output: " + takeErrors());
  }
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

Result<std::vector<X509Ptr>> parseCertificates(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  if (!bio) {
    return fail(ErrorCode::Internal, "allocating BIO: " + takeErrors());
  }
  std::vector<X509Ptr> certificates;
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  // Reading stops with "no start line" at the end of the bundle; anything else is corruption.
  unsigned long last = ERR_peek_last_error();
  if (last != 0 &&
      !(ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE)) {
    return fail(ErrorCode::Parse, "malformed certificate PEM: " + takeErrors());
  }
  ERR_clear_error();
  if (certificates.empty()) {
    return fail(ErrorCode::Parse, "no certificate found in PEM data");
  }
  return certificates;
}

Result<PKeyPtr> parsePrivateKey(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  if (!bio) {
    return fail(ErrorCode::Internal, "allocating BIO: " + takeErrors());
  }
  PKeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return fail(ErrorCode::Parse, "malformed private key PEM: " + takeErrors());
  }
  return key;
}

Result<std::string> toPem(X509* certificate) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), certificate) != 1) {
    return fail(ErrorCode::Internal, "encoding certificate PEM: " + takeErrors());
  }
  return drainBio(bio.get());
}

Result<std::string> toPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  // PKCS#8, unencrypted: what Kubernetes Secrets of type kubernetes.io/tls hold.
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return fail(ErrorCode::Internal, "encoding private key PEM: " + takeErrors());
  }
  return drainBio(bio.get());
}

Result<std::string> readSmallFile(const std::string& path, std::size_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return fail(ErrorCode::Io, "cannot open " + path);
  }
  std::string content;
  char buffer[8192];
  while (file.read(buffer, sizeof(buffer)) || file.gcount() > 0) {
    content.append(buffer, static_cast<std::size_t>(file.gcount()));
    if (content.size() > max_bytes) {
      return fail(ErrorCode::ResourceExhausted,
                  path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  if (file.bad()) {
    return fail(ErrorCode::Io, "reading " + path);
  }
  return content;
}

}  // namespace kprof::http::ossl
