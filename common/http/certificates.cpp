#include "common/http/certificates.hpp"

#include <cstring>
#include <ctime>
#include <memory>

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/http/openssl_handles.hpp"

namespace kprof::http {
namespace {

using ossl::takeErrors;

using Clock = std::chrono::system_clock;

Status validateSpec(const CertificateSpec& spec) {
  if (spec.not_after <= spec.not_before) {
    return fail(ErrorCode::InvalidArgument, "certificate not_after must be later than not_before");
  }
  if (spec.common_name.empty() && spec.dns_names.empty() && spec.ip_addresses.empty()) {
    return fail(ErrorCode::InvalidArgument, "certificate needs a common name or a SAN");
  }
  // RFC 5280 upper bound for the commonName attribute.
  if (spec.common_name.size() > 64) {
    return fail(ErrorCode::InvalidArgument, "common name longer than 64 characters");
  }
  for (const std::string& name : spec.dns_names) {
    bool printable = !name.empty();
    for (unsigned char c : name) {
      printable = printable && c > 0x20 && c < 0x7f && c != ',';
    }
    if (!printable) {
      return fail(ErrorCode::InvalidArgument, "invalid DNS name in SAN: '" + name + "'");
    }
  }
  return ok();
}

Result<ossl::PKeyPtr> generateKey(KeyAlgorithm algorithm) {
  EVP_PKEY* key = algorithm == KeyAlgorithm::Rsa2048 ? EVP_RSA_gen(2048)
                                                     : EVP_EC_gen(const_cast<char*>("P-256"));
  if (key == nullptr) {
    return fail(ErrorCode::Internal, "generating key: " + takeErrors());
  }
  return ossl::PKeyPtr(key);
}

// A random positive 127-bit serial, as RFC 5280 recommends for unpredictability.
Status setRandomSerial(X509* certificate) {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return fail(ErrorCode::Internal, "random serial: " + takeErrors());
  }
  bytes[0] = static_cast<unsigned char>((bytes[0] & 0x7f) | 0x40);
  ossl::BignumPtr number(BN_bin2bn(bytes, sizeof(bytes), nullptr));
  if (!number || BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(certificate)) == nullptr) {
    return fail(ErrorCode::Internal, "setting serial: " + takeErrors());
  }
  return ok();
}

Status setValidity(X509* certificate, const CertificateSpec& spec) {
  if (ASN1_TIME_set(X509_getm_notBefore(certificate), Clock::to_time_t(spec.not_before)) ==
          nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(certificate), Clock::to_time_t(spec.not_after)) == nullptr) {
    return fail(ErrorCode::InvalidArgument, "validity period out of range: " + takeErrors());
  }
  return ok();
}

Status setSubject(X509* certificate, const std::string& common_name) {
  X509_NAME* name = X509_get_subject_name(certificate);
  if (!common_name.empty() &&
      X509_NAME_add_entry_by_txt(name,
                                 "CN",
                                 MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                 -1,
                                 -1,
                                 0) != 1) {
    return fail(ErrorCode::InvalidArgument, "setting common name: " + takeErrors());
  }
  return ok();
}

Status addExtension(X509* certificate, X509V3_CTX* context, int nid, const char* value) {
  ossl::X509ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, context, nid, value));
  if (!extension || X509_add_ext(certificate, extension.get(), -1) != 1) {
    return fail(ErrorCode::Internal,
                std::string("adding extension ") + OBJ_nid2sn(nid) + ": " + takeErrors());
  }
  return ok();
}

Status addSubjectAltNames(X509* certificate, const CertificateSpec& spec) {
  if (spec.dns_names.empty() && spec.ip_addresses.empty()) {
    return ok();
  }
  ossl::GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
  if (!names) {
    return fail(ErrorCode::Internal, "allocating SAN list");
  }
  auto push = [&](int type, ASN1_STRING* value) {
    GENERAL_NAME* entry = GENERAL_NAME_new();
    if (entry == nullptr) {
      ASN1_STRING_free(value);
      return false;
    }
    GENERAL_NAME_set0_value(entry, type, value);
    if (sk_GENERAL_NAME_push(names.get(), entry) <= 0) {
      GENERAL_NAME_free(entry);
      return false;
    }
    return true;
  };
  for (const std::string& dns : spec.dns_names) {
    ASN1_IA5STRING* value = ASN1_IA5STRING_new();
    if (value == nullptr || ASN1_STRING_set(value, dns.data(), static_cast<int>(dns.size())) != 1 ||
        !push(GEN_DNS, value)) {
      return fail(ErrorCode::Internal, "adding DNS SAN: " + takeErrors());
    }
  }
  for (const std::string& ip : spec.ip_addresses) {
    ASN1_OCTET_STRING* value = a2i_IPADDRESS(ip.c_str());
    if (value == nullptr) {
      ERR_clear_error();
      return fail(ErrorCode::InvalidArgument, "invalid IP address in SAN: '" + ip + "'");
    }
    if (!push(GEN_IPADD, value)) {
      return fail(ErrorCode::Internal, "adding IP SAN: " + takeErrors());
    }
  }
  // Without a subject CN the SAN is the only identity, and RFC 5280 wants it critical then.
  int critical = spec.common_name.empty() ? 1 : 0;
  if (X509_add1_ext_i2d(
          certificate, NID_subject_alt_name, names.get(), critical, X509V3_ADD_DEFAULT) != 1) {
    return fail(ErrorCode::Internal, "adding SAN extension: " + takeErrors());
  }
  return ok();
}

// Builds and signs a certificate for `spec`. Without an issuer it is self-signed.
Result<CertificateKeyPair> buildCertificate(const CertificateSpec& spec,
                                            bool is_ca,
                                            X509* issuer_certificate,
                                            EVP_PKEY* issuer_key) {
  KPROF_TRY(validateSpec(spec));
  auto key = generateKey(spec.key_algorithm);
  if (!key) {
    return key.error();
  }
  ossl::X509Ptr certificate(X509_new());
  if (!certificate || X509_set_version(certificate.get(), X509_VERSION_3) != 1) {
    return fail(ErrorCode::Internal, "allocating certificate: " + takeErrors());
  }
  X509* cert = certificate.get();
  KPROF_TRY(setRandomSerial(cert));
  KPROF_TRY(setSubject(cert, spec.common_name));
  X509* issuer = issuer_certificate != nullptr ? issuer_certificate : cert;
  EVP_PKEY* signing_key = issuer_key != nullptr ? issuer_key : key->get();
  if (X509_set_issuer_name(cert, X509_get_subject_name(issuer)) != 1 ||
      X509_set_pubkey(cert, key->get()) != 1) {
    return fail(ErrorCode::Internal, "setting issuer or public key: " + takeErrors());
  }
  KPROF_TRY(setValidity(cert, spec));

  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  if (is_ca) {
    KPROF_TRY(addExtension(cert, &context, NID_basic_constraints, "critical,CA:TRUE"));
    KPROF_TRY(addExtension(cert, &context, NID_key_usage, "critical,keyCertSign,cRLSign"));
  } else {
    KPROF_TRY(addExtension(cert, &context, NID_basic_constraints, "critical,CA:FALSE"));
    // keyEncipherment only means something for RSA key transport.
    const char* usage = spec.key_algorithm == KeyAlgorithm::Rsa2048
                            ? "critical,digitalSignature,keyEncipherment"
                            : "critical,digitalSignature";
    KPROF_TRY(addExtension(cert, &context, NID_key_usage, usage));
    std::string extended;
    if (spec.server_auth) {
      extended = "serverAuth";
    }
    if (spec.client_auth) {
      extended += extended.empty() ? "clientAuth" : ",clientAuth";
    }
    if (!extended.empty()) {
      KPROF_TRY(addExtension(cert, &context, NID_ext_key_usage, extended.c_str()));
    }
  }
  KPROF_TRY(addExtension(cert, &context, NID_subject_key_identifier, "hash"));
  KPROF_TRY(addExtension(cert, &context, NID_authority_key_identifier, "keyid:always"));
  KPROF_TRY(addSubjectAltNames(cert, spec));

  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) {
    return fail(ErrorCode::Internal, "signing certificate: " + takeErrors());
  }
  auto certificate_pem = ossl::toPem(cert);
  if (!certificate_pem) {
    return certificate_pem.error();
  }
  auto key_pem = ossl::toPem(key->get());
  if (!key_pem) {
    return key_pem.error();
  }
  return CertificateKeyPair{std::move(*certificate_pem), std::move(*key_pem)};
}

std::string commonName(X509_NAME* name) {
  int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) {
    return {};
  }
  ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index));
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, data);
  if (length < 0) {
    ERR_clear_error();
    return {};
  }
  std::string text(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return text;
}

Result<Clock::time_point> toTimePoint(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) {
    return fail(ErrorCode::Parse, "unreadable certificate time: " + takeErrors());
  }
  return Clock::from_time_t(timegm(&parts));
}

std::string ipToString(const ASN1_OCTET_STRING* address) {
  char text[INET6_ADDRSTRLEN] = {};
  const unsigned char* bytes = ASN1_STRING_get0_data(address);
  int length = ASN1_STRING_length(address);
  int family = length == 4 ? AF_INET : (length == 16 ? AF_INET6 : -1);
  if (family < 0 || inet_ntop(family, bytes, text, sizeof(text)) == nullptr) {
    return {};
  }
  return text;
}

}  // namespace

Result<CertificateKeyPair> createCertificateAuthority(const CertificateSpec& spec) {
  return buildCertificate(spec, /*is_ca=*/true, nullptr, nullptr);
}

Result<CertificateKeyPair> issueCertificate(const CertificateKeyPair& issuer,
                                            const CertificateSpec& spec) {
  auto issuer_certificates = ossl::parseCertificates(issuer.certificate_pem);
  if (!issuer_certificates) {
    return issuer_certificates.error().wrap("issuer certificate");
  }
  auto issuer_key = ossl::parsePrivateKey(issuer.private_key_pem);
  if (!issuer_key) {
    return issuer_key.error().wrap("issuer key");
  }
  X509* issuer_certificate = issuer_certificates->front().get();
  if (X509_check_private_key(issuer_certificate, issuer_key->get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidArgument, "issuer key does not match issuer certificate");
  }
  if ((X509_get_extension_flags(issuer_certificate) & EXFLAG_CA) == 0) {
    return fail(ErrorCode::InvalidArgument, "issuer certificate is not a CA");
  }
  return buildCertificate(spec, /*is_ca=*/false, issuer_certificate, issuer_key->get());
}

Result<CertificateInfo> inspectCertificate(std::string_view certificate_pem) {
  auto certificates = ossl::parseCertificates(certificate_pem);
  if (!certificates) {
    return certificates.error();
  }
  X509* cert = certificates->front().get();
  CertificateInfo info;
  info.subject_common_name = commonName(X509_get_subject_name(cert));
  info.issuer_common_name = commonName(X509_get_issuer_name(cert));

  ossl::BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* hex = serial ? BN_bn2hex(serial.get()) : nullptr;
  if (hex == nullptr) {
    return fail(ErrorCode::Parse, "unreadable serial number: " + takeErrors());
  }
  info.serial_hex = hex;
  OPENSSL_free(hex);

  auto not_before = toTimePoint(X509_get0_notBefore(cert));
  auto not_after = toTimePoint(X509_get0_notAfter(cert));
  if (!not_before || !not_after) {
    return (!not_before ? not_before : not_after).error();
  }
  info.not_before = *not_before;
  info.not_after = *not_after;
  info.is_ca = (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;

  ossl::GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type == GEN_DNS) {
      const ASN1_IA5STRING* dns = name->d.dNSName;
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      info.ip_addresses.push_back(ipToString(name->d.iPAddress));
    }
  }
  return info;
}

Status verifyCertificate(std::string_view certificate_pem,
                         std::string_view ca_pem,
                         std::chrono::system_clock::time_point at,
                         std::string_view dns_name) {
  auto chain = ossl::parseCertificates(certificate_pem);
  if (!chain) {
    return chain.error().wrap("certificate");
  }
  auto authorities = ossl::parseCertificates(ca_pem);
  if (!authorities) {
    return authorities.error().wrap("CA");
  }
  ossl::X509StorePtr store(X509_STORE_new());
  if (!store) {
    return fail(ErrorCode::Internal, "allocating X509 store: " + takeErrors());
  }
  for (const ossl::X509Ptr& authority : *authorities) {
    if (X509_STORE_add_cert(store.get(), authority.get()) != 1) {
      return fail(ErrorCode::Internal, "adding CA to store: " + takeErrors());
    }
  }
  auto free_stack = [](STACK_OF(X509) * stack) { sk_X509_free(stack); };
  std::unique_ptr<STACK_OF(X509), decltype(free_stack)> intermediates(sk_X509_new_null(),
                                                                      free_stack);
  for (std::size_t i = 1; i < chain->size(); ++i) {
    sk_X509_push(intermediates.get(), (*chain)[i].get());
  }
  ossl::X509StoreCtxPtr context(X509_STORE_CTX_new());
  if (!context || !intermediates ||
      X509_STORE_CTX_init(context.get(), store.get(), chain->front().get(), intermediates.get()) !=
          1) {
    return fail(ErrorCode::Internal, "preparing verification: " + takeErrors());
  }
  X509_VERIFY_PARAM* params = X509_STORE_CTX_get0_param(context.get());
  X509_VERIFY_PARAM_set_time(params, Clock::to_time_t(at));
  if (!dns_name.empty() &&
      X509_VERIFY_PARAM_set1_host(params, dns_name.data(), dns_name.size()) != 1) {
    return fail(ErrorCode::Internal, "setting expected host: " + takeErrors());
  }
  if (X509_verify_cert(context.get()) != 1) {
    int error = X509_STORE_CTX_get_error(context.get());
    ERR_clear_error();
    return fail(
        ErrorCode::InvalidArgument,
        std::string("certificate verification failed: ") + X509_verify_cert_error_string(error));
  }
  return ok();
}

Status checkKeyMatchesCertificate(std::string_view certificate_pem, std::string_view key_pem) {
  auto certificates = ossl::parseCertificates(certificate_pem);
  if (!certificates) {
    return certificates.error();
  }
  auto key = ossl::parsePrivateKey(key_pem);
  if (!key) {
    return key.error();
  }
  if (X509_check_private_key(certificates->front().get(), key->get()) != 1) {
    ERR_clear_error();
    return fail(ErrorCode::InvalidArgument, "private key does not match certificate");
  }
  return ok();
}

}  // namespace kprof::http
