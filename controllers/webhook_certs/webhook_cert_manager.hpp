// Keeps the webhook's certificates: the TLS Secret in the operator's namespace, the PEM files the
// TLS server reloads, and the caBundle of the MutatingWebhookConfiguration. Every replica runs
// the same sync; writes are guarded by resourceVersion (409: re-read and re-decide), so two
// replicas never leave different certificates behind.
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "common/http/certificate_store.hpp"
#include "controllers/webhook_certs/certificate_plan.hpp"
#include "operator/kube/api.hpp"

namespace kprof::controllers {

struct WebhookCertOptions {
  std::string namespace_name = "kprof-system";
  std::string secret_name = "kprof-webhook-tls";
  std::string webhook_configuration = "kprof";  // MutatingWebhookConfiguration whose caBundle we own
  std::string directory;                         // where tls.crt / tls.key are written for the server
  CertificateSettings settings;
};

class WebhookCertManager {
 public:
  WebhookCertManager(kube::Api& api, Clock& clock, WebhookCertOptions options);

  // One pass: read the Secret, renew what is due, write the Secret, the files and the caBundle
  // where they differ. Safe to call concurrently from several replicas.
  Status sync();

  http::CertificateFiles files() const;
  // The CA bundle last written (PEM), for tests and the log.
  std::string caBundle() const;

 private:
  Result<WebhookTls> ensureSecret();
  Status writeFiles(const WebhookTls& tls);
  Status patchCaBundle(const std::string& bundle);

  kube::Api& api_;
  Clock& clock_;
  const WebhookCertOptions options_;
  mutable std::mutex mutex_;
  std::string ca_bundle_;
};

}  // namespace kprof::controllers
