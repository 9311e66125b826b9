#include "common/http/certificates.hpp"

#include <algorithm>

#include <gtest/gtest.h>

namespace kprof::http {
namespace {

using std::chrono::hours;
using std::chrono::system_clock;

// A fixed instant, so validity checks do not depend on when the test runs.
const system_clock::time_point kNow = system_clock::from_time_t(1'750'000'000);

CertificateSpec caSpec() {
  CertificateSpec spec;
  spec.common_name = "kprof-test-ca";
  spec.not_before = kNow - hours(1);
  spec.not_after = kNow + hours(24 * 365);
  return spec;
}

CertificateSpec webhookSpec() {
  CertificateSpec spec;
  spec.common_name = "kprof-webhook.kprof.svc";
  spec.dns_names = {"kprof-webhook.kprof.svc", "kprof-webhook.kprof.svc.cluster.local"};
  spec.ip_addresses = {"127.0.0.1", "::1"};
  spec.not_before = kNow - hours(1);
  spec.not_after = kNow + hours(24 * 90);
  return spec;
}

TEST(CertificatesTest, IssuedCertificateCarriesTheSpec) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca) << ca.error().toString();
  auto leaf = issueCertificate(*ca, webhookSpec());
  ASSERT_TRUE(leaf) << leaf.error().toString();

  auto info = inspectCertificate(leaf->certificate_pem);
  ASSERT_TRUE(info) << info.error().toString();
  EXPECT_EQ(info->subject_common_name, "kprof-webhook.kprof.svc");
  EXPECT_EQ(info->issuer_common_name, "kprof-test-ca");
  EXPECT_EQ(info->dns_names, webhookSpec().dns_names);
  EXPECT_EQ(info->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(info->not_before, webhookSpec().not_before);
  EXPECT_EQ(info->not_after, webhookSpec().not_after);
  EXPECT_FALSE(info->is_ca);
  EXPECT_FALSE(info->serial_hex.empty());

  auto ca_info = inspectCertificate(ca->certificate_pem);
  ASSERT_TRUE(ca_info);
  EXPECT_TRUE(ca_info->is_ca);
  EXPECT_EQ(ca_info->subject_common_name, ca_info->issuer_common_name);
}

TEST(CertificatesTest, LeafVerifiesAgainstItsCaForItsNamesOnly) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);
  auto leaf = issueCertificate(*ca, webhookSpec());
  ASSERT_TRUE(leaf);

  EXPECT_TRUE(verifyCertificate(leaf->certificate_pem, ca->certificate_pem, kNow));
  EXPECT_TRUE(verifyCertificate(
      leaf->certificate_pem, ca->certificate_pem, kNow, "kprof-webhook.kprof.svc"));
  auto wrong_name =
      verifyCertificate(leaf->certificate_pem, ca->certificate_pem, kNow, "other.kprof.svc");
  ASSERT_FALSE(wrong_name);
  EXPECT_EQ(wrong_name.error().code, ErrorCode::InvalidArgument);

  auto other_ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(other_ca);
  EXPECT_FALSE(verifyCertificate(leaf->certificate_pem, other_ca->certificate_pem, kNow));
}

TEST(CertificatesTest, VerificationHonoursTheValidityPeriod) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);
  auto leaf = issueCertificate(*ca, webhookSpec());
  ASSERT_TRUE(leaf);
  auto expired = verifyCertificate(
      leaf->certificate_pem, ca->certificate_pem, webhookSpec().not_after + hours(1));
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos) << expired.error().message;
  EXPECT_FALSE(verifyCertificate(
      leaf->certificate_pem, ca->certificate_pem, webhookSpec().not_before - hours(1)));
}

TEST(CertificatesTest, KeyMatchesOnlyItsCertificate) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);
  auto first = issueCertificate(*ca, webhookSpec());
  auto second = issueCertificate(*ca, webhookSpec());
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(checkKeyMatchesCertificate(first->certificate_pem, first->private_key_pem));
  EXPECT_FALSE(checkKeyMatchesCertificate(first->certificate_pem, second->private_key_pem));
  auto first_info = inspectCertificate(first->certificate_pem);
  auto second_info = inspectCertificate(second->certificate_pem);
  ASSERT_TRUE(first_info && second_info);
  EXPECT_NE(first_info->serial_hex, second_info->serial_hex);
}

TEST(CertificatesTest, RsaKeysAndClientAuthWork) {
  CertificateSpec spec = caSpec();
  spec.key_algorithm = KeyAlgorithm::Rsa2048;
  auto ca = createCertificateAuthority(spec);
  ASSERT_TRUE(ca) << ca.error().toString();
  CertificateSpec client = webhookSpec();
  client.common_name = "system:kprof-operator";
  client.dns_names.clear();
  client.ip_addresses.clear();
  client.server_auth = false;
  client.client_auth = true;
  client.key_algorithm = KeyAlgorithm::Rsa2048;
  auto leaf = issueCertificate(*ca, client);
  ASSERT_TRUE(leaf) << leaf.error().toString();
  EXPECT_TRUE(verifyCertificate(leaf->certificate_pem, ca->certificate_pem, kNow));
  EXPECT_NE(leaf->private_key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
}

TEST(CertificatesTest, RejectsInvalidSpecs) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);

  CertificateSpec backwards = webhookSpec();
  backwards.not_after = backwards.not_before;
  auto result = issueCertificate(*ca, backwards);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);

  CertificateSpec bad_ip = webhookSpec();
  bad_ip.ip_addresses = {"300.1.1.1"};
  result = issueCertificate(*ca, bad_ip);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);

  CertificateSpec nameless;
  nameless.not_before = kNow;
  nameless.not_after = kNow + hours(1);
  EXPECT_FALSE(issueCertificate(*ca, nameless));

  CertificateSpec bad_dns = webhookSpec();
  bad_dns.dns_names = {"has space.example"};
  EXPECT_FALSE(issueCertificate(*ca, bad_dns));
}

TEST(CertificatesTest, OnlyACaCanIssue) {
  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);
  auto leaf = issueCertificate(*ca, webhookSpec());
  ASSERT_TRUE(leaf);
  auto result = issueCertificate(*leaf, webhookSpec());
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::InvalidArgument);
}

TEST(CertificatesTest, MalformedPemIsAParseError) {
  auto info = inspectCertificate("not a certificate");
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::Parse);

  auto ca = createCertificateAuthority(caSpec());
  ASSERT_TRUE(ca);
  std::string truncated = ca->certificate_pem.substr(0, ca->certificate_pem.size() / 2);
  info = inspectCertificate(truncated);
  ASSERT_FALSE(info);
  EXPECT_EQ(info.error().code, ErrorCode::Parse);
}

}  // namespace
}  // namespace kprof::http
