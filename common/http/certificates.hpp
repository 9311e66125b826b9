// Creating and inspecting X.509 certificates as PEM strings: a self-signed CA, serving (and client)
// certificates it signs, and the facts a certificate manager needs to decide on renewal (validity,
// SANs, whether it chains to our CA). Used by tests and by the operator's webhook cert manager.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::http {

enum class KeyAlgorithm {
  EcdsaP256,  // default: fast to generate, accepted by Kubernetes and every TLS 1.2+ client
  Rsa2048,
};

// What goes into a certificate. The validity period is a parameter rather than a clock read, so
// the caller decides and tests can pin it.
struct CertificateSpec {
  std::string common_name;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;  // "127.0.0.1", "::1"
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  KeyAlgorithm key_algorithm = KeyAlgorithm::EcdsaP256;
  bool server_auth = true;   // extendedKeyUsage serverAuth (leaf certificates only)
  bool client_auth = false;  // extendedKeyUsage clientAuth, for kubeconfig-style client certs
};

// A certificate and its private key, both PEM (the key as unencrypted PKCS#8).
struct CertificateKeyPair {
  std::string certificate_pem;
  std::string private_key_pem;
};

// A self-signed CA: basicConstraints CA:TRUE (critical), keyCertSign and cRLSign, a random serial.
Result<CertificateKeyPair> createCertificateAuthority(const CertificateSpec& spec);

// A leaf certificate for `spec`, signed by `issuer` (a CA from createCertificateAuthority or any
// CA pair in PEM), with the spec's DNS and IP subject alternative names.
Result<CertificateKeyPair> issueCertificate(const CertificateKeyPair& issuer,
                                            const CertificateSpec& spec);

struct CertificateInfo {
  std::string subject_common_name;
  std::string issuer_common_name;
  std::string serial_hex;  // upper-case hex, no separators
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> dns_names;
  std::vector<std::string> ip_addresses;
  bool is_ca = false;
};

// Facts about the first certificate in a PEM bundle.
Result<CertificateInfo> inspectCertificate(std::string_view certificate_pem);

// Checks that the first certificate in `certificate_pem` (later ones are taken as intermediates)
// chains to a CA in `ca_pem` and is valid at `at`; with a non-empty `dns_name`, also that the
// certificate covers that name. Fails with InvalidArgument and OpenSSL's reason otherwise.
Status verifyCertificate(std::string_view certificate_pem,
                         std::string_view ca_pem,
                         std::chrono::system_clock::time_point at,
                         std::string_view dns_name = {});

// Checks that a private key belongs to the first certificate of a PEM bundle.
Status checkKeyMatchesCertificate(std::string_view certificate_pem, std::string_view key_pem);

}  // namespace kprof::http
