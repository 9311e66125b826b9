#include "controllers/webhook_certs/certificate_plan.hpp"

#include <gtest/gtest.h>

#include "common/http/certificates.hpp"

namespace kprof::controllers {
namespace {

using namespace std::chrono_literals;
using Time = std::chrono::system_clock::time_point;

const Time kNow = std::chrono::sys_days{std::chrono::year{2026} / 11 / 22};

CertificateSettings settings() {
  CertificateSettings s;
  s.dns_names = serviceDnsNames("kprof-webhook", "kprof-system");
  return s;
}

WebhookTls fresh(Time at = kNow, const CertificateSettings& s = settings()) {
  auto tls = renewCertificates({}, {CertificateAction::IssueCaAndLeaf, "test"}, s, at);
  EXPECT_TRUE(tls) << tls.error().message;
  return *tls;
}

TEST(WebhookCertificates, ServiceNamesCoverEveryWayTheApiServerDials) {
  EXPECT_EQ(serviceDnsNames("kprof-webhook", "kprof-system"),
            (std::vector<std::string>{"kprof-webhook", "kprof-webhook.kprof-system",
                                      "kprof-webhook.kprof-system.svc",
                                      "kprof-webhook.kprof-system.svc.cluster.local"}));
}

TEST(WebhookCertificates, AnEmptyOrGarbageSecretGetsANewCaAndLeaf) {
  EXPECT_EQ(decideCertificates({}, settings(), kNow).action, CertificateAction::IssueCaAndLeaf);
  EXPECT_EQ(decideCertificates({"junk", "junk", "junk", "junk"}, settings(), kNow).action,
            CertificateAction::IssueCaAndLeaf);
  WebhookTls mismatched = fresh();
  mismatched.ca_key = fresh().ca_key;  // another CA's key
  EXPECT_EQ(decideCertificates(mismatched, settings(), kNow).action,
            CertificateAction::IssueCaAndLeaf);
}

TEST(WebhookCertificates, AFreshPairIsKeptAndServesTheServiceName) {
  const WebhookTls tls = fresh();
  EXPECT_EQ(decideCertificates(tls, settings(), kNow + 24h).action, CertificateAction::Keep);
  EXPECT_TRUE(http::verifyCertificate(tls.tls_crt, tls.ca_crt, kNow + 1h,
                                      "kprof-webhook.kprof-system.svc"));
}

TEST(WebhookCertificates, TheLeafIsRenewedWhenAThirdOfItsLifeIsLeft) {
  const WebhookTls tls = fresh();
  // One year of validity: renewal starts about 122 days before expiry.
  EXPECT_EQ(decideCertificates(tls, settings(), kNow + 24h * 200).action, CertificateAction::Keep);
  const auto decision = decideCertificates(tls, settings(), kNow + 24h * 250);
  EXPECT_EQ(decision.action, CertificateAction::IssueLeaf);
  EXPECT_NE(decision.reason.find("expires in"), std::string::npos);

  auto renewed = renewCertificates(tls, decision, settings(), kNow + 24h * 250);
  ASSERT_TRUE(renewed);
  EXPECT_EQ(renewed->ca_crt, tls.ca_crt);  // same CA: no caBundle change needed
  EXPECT_NE(renewed->tls_crt, tls.tls_crt);
  EXPECT_EQ(decideCertificates(*renewed, settings(), kNow + 24h * 250).action,
            CertificateAction::Keep);
}

TEST(WebhookCertificates, ANewServiceNameReissuesTheLeaf) {
  const WebhookTls tls = fresh();
  CertificateSettings moved = settings();
  moved.dns_names = serviceDnsNames("kprof-webhook", "observability");
  const auto decision = decideCertificates(tls, moved, kNow);
  EXPECT_EQ(decision.action, CertificateAction::IssueLeaf);
  EXPECT_NE(decision.reason.find("does not cover kprof-webhook.observability"), std::string::npos);
}

TEST(WebhookCertificates, AnExpiringCaIsReplacedAndTheOldOneStaysInTheBundleUntilItExpires) {
  const WebhookTls old_tls = fresh();
  const Time later = kNow + 24h * 365 * 4;  // five-year CA, less than a third left
  const auto decision = decideCertificates(old_tls, settings(), later);
  ASSERT_EQ(decision.action, CertificateAction::IssueCaAndLeaf);

  auto rotated = renewCertificates(old_tls, decision, settings(), later);
  ASSERT_TRUE(rotated);
  const std::string bundle = validCaBundle(rotated->ca_crt, later);
  EXPECT_NE(bundle.find(old_tls.ca_crt), std::string::npos);  // old CA still trusted
  // The new leaf chains to the new CA, and both old and new leaves verify against the bundle.
  EXPECT_TRUE(http::verifyCertificate(rotated->tls_crt, bundle, later, "kprof-webhook.kprof-system.svc"));
  EXPECT_EQ(decideCertificates(*rotated, settings(), later).action, CertificateAction::Keep);
  // Once the old CA has expired, it leaves the bundle.
  const Time after_old_expiry = kNow + 24h * 365 * 5 + 24h;
  EXPECT_EQ(validCaBundle(rotated->ca_crt, after_old_expiry).find(old_tls.ca_crt), std::string::npos);
}

TEST(WebhookCertificates, TheLeafNeverOutlivesItsCa) {
  CertificateSettings s = settings();
  s.ca_validity = 24h * 30;
  s.leaf_validity = 24h * 365;
  const WebhookTls tls = fresh(kNow, s);
  auto leaf = http::inspectCertificate(tls.tls_crt);
  auto ca = http::inspectCertificate(tls.ca_crt);
  ASSERT_TRUE(leaf && ca);
  EXPECT_LE(leaf->not_after, ca->not_after);
}

}  // namespace
}  // namespace kprof::controllers
