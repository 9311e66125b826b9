// When the webhook's serving certificate and its CA need replacing, decided from what the Secret
// holds, the Service's DNS names and the time. Pure: the time is a parameter.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::controllers {

// The Secret's four keys. ca.crt may hold several CAs, newest first: after a CA rotation the
// previous CA stays in the bundle until it expires, so API servers that cached the old bundle
// and servers still presenting an old leaf keep working.
struct WebhookTls {
  std::string ca_crt;
  std::string ca_key;
  std::string tls_crt;
  std::string tls_key;

  bool operator==(const WebhookTls&) const = default;
};

struct CertificateSettings {
  std::vector<std::string> dns_names;  // the first is the common name
  std::chrono::hours ca_validity{24 * 365 * 5};
  std::chrono::hours leaf_validity{24 * 365};
  // Renew when less than this fraction of a certificate's lifetime is left.
  double renew_fraction = 1.0 / 3.0;
};

// The DNS names a Service answers to: name, name.ns, name.ns.svc, name.ns.svc.cluster.local.
std::vector<std::string> serviceDnsNames(const std::string& service, const std::string& ns);

enum class CertificateAction { Keep, IssueLeaf, IssueCaAndLeaf };

struct CertificateDecision {
  CertificateAction action = CertificateAction::Keep;
  std::string reason;  // for the log: "serving certificate expires in 20 days"
};

CertificateDecision decideCertificates(const WebhookTls& current,
                                       const CertificateSettings& settings,
                                       std::chrono::system_clock::time_point now);

// Carries out a decision: new keys and certificates where it says so, the rest kept. The CA
// bundle keeps the still-valid previous CAs after the new one.
Result<WebhookTls> renewCertificates(const WebhookTls& current,
                                     const CertificateDecision& decision,
                                     const CertificateSettings& settings,
                                     std::chrono::system_clock::time_point now);

// The still-valid CA certificates of a bundle, in order, as one PEM text.
std::string validCaBundle(const std::string& ca_crt, std::chrono::system_clock::time_point now);

}  // namespace kprof::controllers
