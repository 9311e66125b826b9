#include "controllers/webhook_certs/certificate_plan.hpp"

#include <algorithm>

#include "common/http/certificates.hpp"

namespace kprof::controllers {
namespace {

using Clock = std::chrono::system_clock;

// The PEM blocks of a bundle, in order.
std::vector<std::string> pemBlocks(const std::string& bundle) {
  static constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  std::vector<std::string> blocks;
  std::size_t start = bundle.find("-----BEGIN CERTIFICATE-----");
  while (start != std::string::npos) {
    const std::size_t end = bundle.find(kEnd, start);
    if (end == std::string::npos) break;
    blocks.push_back(bundle.substr(start, end + kEnd.size() - start) + "\n");
    start = bundle.find("-----BEGIN CERTIFICATE-----", end);
  }
  return blocks;
}

// Less than `fraction` of [not_before, not_after] is left at `now`.
bool dueForRenewal(const http::CertificateInfo& info, double fraction, Clock::time_point now) {
  const auto lifetime = info.not_after - info.not_before;
  const auto left = info.not_after - now;
  return left < std::chrono::duration_cast<Clock::duration>(lifetime * fraction);
}

std::string daysLeft(const http::CertificateInfo& info, Clock::time_point now) {
  return std::to_string(std::chrono::duration_cast<std::chrono::hours>(info.not_after - now).count() / 24) +
         " days";
}

}  // namespace

std::vector<std::string> serviceDnsNames(const std::string& service, const std::string& ns) {
  return {service, service + "." + ns, service + "." + ns + ".svc",
          service + "." + ns + ".svc.cluster.local"};
}

CertificateDecision decideCertificates(const WebhookTls& current,
                                       const CertificateSettings& settings,
                                       Clock::time_point now) {
  auto ca = http::inspectCertificate(current.ca_crt);
  if (!ca || !ca->is_ca || current.ca_key.empty() ||
      !http::checkKeyMatchesCertificate(current.ca_crt, current.ca_key)) {
    return {CertificateAction::IssueCaAndLeaf, "no usable CA in the Secret"};
  }
  if (dueForRenewal(*ca, settings.renew_fraction, now)) {
    return {CertificateAction::IssueCaAndLeaf, "the CA expires in " + daysLeft(*ca, now)};
  }
  auto leaf = http::inspectCertificate(current.tls_crt);
  if (!leaf || !http::checkKeyMatchesCertificate(current.tls_crt, current.tls_key)) {
    return {CertificateAction::IssueLeaf, "no usable serving certificate in the Secret"};
  }
  // Only the newest CA signs; a leaf from an older CA in the bundle is replaced.
  const std::string newest_ca = pemBlocks(current.ca_crt).front();
  if (!http::verifyCertificate(current.tls_crt, newest_ca, now)) {
    return {CertificateAction::IssueLeaf, "the serving certificate is not signed by the current CA"};
  }
  for (const auto& name : settings.dns_names) {
    if (std::find(leaf->dns_names.begin(), leaf->dns_names.end(), name) == leaf->dns_names.end()) {
      return {CertificateAction::IssueLeaf, "the serving certificate does not cover " + name};
    }
  }
  if (dueForRenewal(*leaf, settings.renew_fraction, now)) {
    return {CertificateAction::IssueLeaf, "the serving certificate expires in " + daysLeft(*leaf, now)};
  }
  return {CertificateAction::Keep, "valid"};
}

std::string validCaBundle(const std::string& ca_crt, Clock::time_point now) {
  std::string bundle;
  for (const auto& block : pemBlocks(ca_crt)) {
    auto info = http::inspectCertificate(block);
    if (info && info->is_ca && info->not_after > now) bundle += block;
  }
  return bundle;
}

Result<WebhookTls> renewCertificates(const WebhookTls& current,
                                     const CertificateDecision& decision,
                                     const CertificateSettings& settings,
                                     Clock::time_point now) {
  if (decision.action == CertificateAction::Keep) return current;
  if (settings.dns_names.empty()) {
    return makeError(ErrorCode::InvalidArgument, "webhook certificate: no DNS names");
  }
  WebhookTls next = current;
  // Back-dated a little so a peer whose clock lags still accepts a fresh certificate.
  const auto not_before = now - std::chrono::minutes(5);
  if (decision.action == CertificateAction::IssueCaAndLeaf) {
    http::CertificateSpec ca_spec{.common_name = "kprof-webhook-ca",
                                  .not_before = not_before,
                                  .not_after = now + settings.ca_validity};
    auto ca = http::createCertificateAuthority(ca_spec);
    if (!ca) return ca.error().wrap("creating the webhook CA");
    next.ca_crt = ca->certificate_pem + validCaBundle(current.ca_crt, now);
    next.ca_key = ca->private_key_pem;
  }
  const std::string newest_ca = pemBlocks(next.ca_crt).front();
  auto ca_info = http::inspectCertificate(newest_ca);
  if (!ca_info) return ca_info.error().wrap("reading the webhook CA");
  http::CertificateSpec leaf_spec{.common_name = settings.dns_names.front(),
                                  .dns_names = settings.dns_names,
                                  .not_before = not_before,
                                  .not_after = std::min(now + settings.leaf_validity, ca_info->not_after)};
  auto leaf = http::issueCertificate({newest_ca, next.ca_key}, leaf_spec);
  if (!leaf) return leaf.error().wrap("issuing the webhook serving certificate");
  next.tls_crt = leaf->certificate_pem;
  next.tls_key = leaf->private_key_pem;
  return next;
}

}  // namespace kprof::controllers
