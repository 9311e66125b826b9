// Operator: the kprof-operator process minus its command line. It wires the Kubernetes API to the
// controllers and serves what the operator exposes:
//   - informers on ProfilingPolicies and Pods (all namespaces; pods pruned to the fields the
//     controllers read), feeding the ProfilingPolicy controller's work queue: a policy change
//     enqueues that policy, a pod change every policy of its namespace and the policy it is
//     labeled with;
//   - an informer on ProfileSnapshots feeding the snapshot controller, which puts running
//     snapshots' commands into agent configs and writes their status (docs/snapshots.md);
//   - the Alertmanager receiver (POST /alerts) creating ProfileSnapshots from firing alerts;
//   - leader election on a Lease: every replica plans and serves agent configs (so agents may poll
//     any replica behind the Service), only the leader writes status, labels and Events;
//   - the agent config API (long-poll, TokenReview) on its own port, HTTPS when a certificate is
//     configured;
//   - /metrics, /healthz and /readyz (ready once the caches are synced) on the health port.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "common/core/clock.hpp"
#include "common/core/result.hpp"
#include "operator/kube/api.hpp"
#include "webhooks/mutation/mutate_pod.hpp"

namespace kprof::manager {

struct OperatorOptions {
  std::string namespace_name = "kprof-system";  // the operator's own: its Lease lives here
  std::string identity;                         // this replica (the pod name); unique per replica
  bool leader_elect = true;
  std::string lease_name = "kprof-operator";
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
  // Give the Lease up on stop() so a successor takes over at once. Off only to test crashes.
  bool release_on_stop = true;

  std::string listen_host = "0.0.0.0";
  uint16_t health_port = 8081;      // /metrics /healthz /readyz; 0 picks a free port
  uint16_t agent_api_port = 8443;   // the agent config API; 0 picks a free port
  std::string agent_api_certificate_file;  // PEM; with the key file, the agent API serves HTTPS
  std::string agent_api_key_file;
  std::chrono::milliseconds poll_timeout{std::chrono::seconds(30)};

  int workers = 4;
  std::chrono::seconds resync_period{600};
  // Where store targets without a URL send profiles: the embedded kprof-store's ingest Service.
  std::string embedded_store_url = "http://kprof-store.kprof-system.svc:4040";

  // The mutating admission webhook: POST /mutate-pods, always HTTPS, on its own port.
  bool webhook_enabled = false;
  uint16_t webhook_port = 9443;  // 0 picks a free port
  // Self-managed certificates: a CA and serving certificate for the Service's DNS names in
  // namespace_name, kept in a Secret; the MutatingWebhookConfiguration's caBundle is patched.
  std::string webhook_service = "kprof-webhook";
  std::string webhook_secret = "kprof-webhook-tls";
  std::string webhook_configuration = "kprof";
  std::string webhook_cert_dir = "/tmp/kprof-webhook-certs";  // files the TLS server reloads
  std::chrono::seconds webhook_cert_check_interval{3600};
  // Provided certificates (cert-manager, a mounted Secret): used as they are, reloaded when the
  // files change; no generation and no caBundle patching.
  std::string webhook_certificate_file;
  std::string webhook_key_file;
  webhooks::InjectionConfig injection;

  // The Alertmanager receiver, POST /alerts on the agent API's server. It is on when a token
  // source is set: a file (a mounted Secret), or a Secret in namespace_name with key "token".
  std::string alert_token_file;
  std::string alert_token_secret;
  // ProfileSnapshots: how long a finished one is kept, and how long agents have to start one.
  std::chrono::seconds snapshot_ttl{std::chrono::hours(24)};
  std::chrono::seconds snapshot_start_deadline{60};
};

// Checks options before anything starts; the message names the bad option.
Status validate(const OperatorOptions& options);

class Operator {
 public:
  // `api` and `clock` must outlive the Operator.
  Operator(kube::Api& api, Clock& clock, OperatorOptions options);
  ~Operator();  // stop()
  Operator(const Operator&) = delete;
  Operator& operator=(const Operator&) = delete;

  // Starts the servers, informers, election and workers. Fails when a port cannot be bound.
  Status start();
  // Stops the workers after their current reconcile, releases the Lease, closes the servers.
  void stop();

  bool ready() const;    // every cache has synced
  bool leading() const;  // holds the Lease (always, without leader election)
  uint16_t healthPort() const;
  uint16_t agentApiPort() const;
  std::string agentApiUrl() const;
  uint16_t webhookPort() const;  // 0 when the webhook is off

 private:
  Status startWebhook();

  struct Parts;
  std::unique_ptr<Parts> parts_;
};

}  // namespace kprof::manager
