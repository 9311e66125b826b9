// kprof-operator: reconciles ProfilingPolicies, serves the agent config API, and elects a leader
// among its replicas. Connects to the cluster like kubectl (--kubeconfig, KUBECONFIG, in-cluster,
// ~/.kube/config); settings come from --config FILE, then flags.
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>

#include "common/core/clock.hpp"
#include "common/core/duration.hpp"
#include "common/log/log.hpp"
#include "operator/cmd/operator_config.hpp"
#include "operator/kube/cluster_config.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/manager/operator.hpp"

namespace {

std::string defaultIdentity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') {
    return pod;
  }
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return std::string(host) + "-" + std::to_string(::getpid());
}

std::string defaultNamespace() {
  const char* ns = std::getenv("POD_NAMESPACE");
  return ns != nullptr && *ns != '\0' ? ns : "kprof-system";
}

// Blocks until SIGINT or SIGTERM.
void waitForTermination() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  int received = 0;
  sigwait(&signals, &received);
}

}  // namespace

int main(int argc, char** argv) {
  using kprof::manager::OperatorOptions;
  CLI::App app{"kprof-operator: rolls out continuous profiling across a Kubernetes cluster.\n"
               "Reconciles ProfilingPolicy resources (labels pods, writes status, publishes agent\n"
               "configs), serves the agent config API and elects a leader among replicas.\n"
               "With --alert-token-file/--alert-token-secret it takes Alertmanager's webhook on\n"
               "POST /alerts and captures ProfileSnapshots on the pods an alert names."};
  app.set_version_flag("--version", "kprof-operator 0.1.0");

  std::string kubeconfig, context, config_file;
  std::string lease_duration, renew_deadline, retry_period, poll_timeout, resync_period;
  OperatorOptions flags;
  app.add_option("--kubeconfig", kubeconfig, "kubeconfig file (default: KUBECONFIG, in-cluster, "
                                             "~/.kube/config)");
  app.add_option("--context", context, "kubeconfig context (default: current-context)");
  app.add_option("--config", config_file, "YAML file with settings; flags override it")
      ->check(CLI::ExistingFile);
  auto* ns = app.add_option("--namespace", flags.namespace_name,
                            "the operator's namespace, where its Lease lives (env POD_NAMESPACE)");
  auto* identity = app.add_option("--identity", flags.identity,
                                  "this replica's name for leader election (env POD_NAME)");
  auto* leader_elect = app.add_option("--leader-elect", flags.leader_elect,
                                      "elect one writer among replicas (default true)");
  auto* lease_name = app.add_option("--lease-name", flags.lease_name, "Lease name");
  auto* lease_d = app.add_option("--lease-duration", lease_duration, "e.g. 15s");
  auto* renew_d = app.add_option("--renew-deadline", renew_deadline, "e.g. 10s");
  auto* retry_p = app.add_option("--retry-period", retry_period, "e.g. 2s");
  auto* host = app.add_option("--listen-host", flags.listen_host, "address to serve on");
  auto* health = app.add_option("--health-port", flags.health_port,
                                "port of /metrics, /healthz, /readyz (default 8081)");
  auto* agent_port = app.add_option("--agent-api-port", flags.agent_api_port,
                                    "port of the agent config API (default 8443)");
  auto* cert = app.add_option("--agent-api-cert", flags.agent_api_certificate_file,
                              "PEM certificate: serve the agent API over HTTPS");
  auto* key = app.add_option("--agent-api-key", flags.agent_api_key_file, "PEM private key");
  auto* poll = app.add_option("--poll-timeout", poll_timeout,
                              "how long an agent's config poll waits for a change (default 30s)");
  auto* workers = app.add_option("--workers", flags.workers, "concurrent reconciles (default 4)");
  auto* resync = app.add_option("--resync-period", resync_period, "full re-check (default 10m)");
  auto* store = app.add_option("--store-url", flags.embedded_store_url,
                               "ingest URL for store targets without one");
  auto* webhook = app.add_flag("--webhook", flags.webhook_enabled,
                               "serve the mutating admission webhook (POST /mutate-pods, HTTPS)");
  auto* webhook_port = app.add_option("--webhook-port", flags.webhook_port,
                                      "port of the admission webhook (default 9443)");
  auto* webhook_cert = app.add_option("--webhook-cert", flags.webhook_certificate_file,
                                      "provided webhook certificate (cert-manager); default: "
                                      "self-managed in a Secret");
  auto* webhook_key = app.add_option("--webhook-key", flags.webhook_key_file,
                                     "provided webhook private key");
  auto* agent_image = app.add_option("--agent-image", flags.injection.agent_image,
                                     "image of the injected kprof-agent sidecar");
  std::string cluster_version;
  auto* cluster_version_flag = app.add_option(
      "--cluster-version", cluster_version,
      "Kubernetes version of the cluster, e.g. 1.29: native sidecars from 1.29 (default 1.29)");
  auto* alert_file = app.add_option(
      "--alert-token-file", flags.alert_token_file,
      "file holding the bearer token Alertmanager sends to POST /alerts (turns the receiver on)");
  auto* alert_secret = app.add_option(
      "--alert-token-secret", flags.alert_token_secret,
      "Secret in --namespace whose key 'token' holds that token (instead of a file)");
  std::string snapshot_ttl, snapshot_start_deadline;
  auto* snapshot_ttl_flag = app.add_option(
      "--snapshot-ttl", snapshot_ttl, "how long finished ProfileSnapshots are kept (default 24h)");
  auto* snapshot_deadline_flag = app.add_option(
      "--snapshot-start-deadline", snapshot_start_deadline,
      "how long agents have to start a snapshot before their pod counts as failed (default 60s)");
  CLI11_PARSE(app, argc, argv);

  auto log_config = kprof::log::configFromEnv();
  if (!log_config) {
    std::cerr << "kprof-operator: " << log_config.error().message << "\n";
    return 2;
  }
  kprof::log::configure(*log_config);
  auto log = kprof::log::logger("operator");

  OperatorOptions options;
  options.namespace_name = defaultNamespace();
  options.identity = defaultIdentity();
  if (!config_file.empty()) {
    std::ifstream in(config_file);
    std::stringstream text;
    text << in.rdbuf();
    if (auto applied = kprof::manager::applyOperatorYaml(text.str(), options); !applied) {
      std::cerr << "kprof-operator: " << config_file << ": " << applied.error().message << "\n";
      return 2;
    }
  }
  auto take = [](CLI::Option* option, auto& target, const auto& value) {
    if (option->count() > 0) {
      target = value;
    }
  };
  take(ns, options.namespace_name, flags.namespace_name);
  take(identity, options.identity, flags.identity);
  take(leader_elect, options.leader_elect, flags.leader_elect);
  take(lease_name, options.lease_name, flags.lease_name);
  take(host, options.listen_host, flags.listen_host);
  take(health, options.health_port, flags.health_port);
  take(agent_port, options.agent_api_port, flags.agent_api_port);
  take(cert, options.agent_api_certificate_file, flags.agent_api_certificate_file);
  take(key, options.agent_api_key_file, flags.agent_api_key_file);
  take(workers, options.workers, flags.workers);
  take(store, options.embedded_store_url, flags.embedded_store_url);
  take(webhook, options.webhook_enabled, flags.webhook_enabled);
  take(webhook_port, options.webhook_port, flags.webhook_port);
  take(webhook_cert, options.webhook_certificate_file, flags.webhook_certificate_file);
  take(webhook_key, options.webhook_key_file, flags.webhook_key_file);
  take(agent_image, options.injection.agent_image, flags.injection.agent_image);
  take(alert_file, options.alert_token_file, flags.alert_token_file);
  take(alert_secret, options.alert_token_secret, flags.alert_token_secret);
  if (cluster_version_flag->count() > 0) {
    if (auto applied = kprof::manager::applyClusterVersion(cluster_version, options.injection);
        !applied) {
      std::cerr << "kprof-operator: --cluster-version: " << applied.error().message << "\n";
      return 2;
    }
  }
  auto durationFlag = [](CLI::Option* option, const std::string& text, auto& target) {
    if (option->count() == 0) {
      return true;
    }
    const auto parsed = kprof::parseDuration(text);
    if (!parsed) {
      std::cerr << "kprof-operator: " << option->get_name() << ": bad duration '" << text
                << "' (use e.g. 30s, 500ms, 2m)\n";
      return false;
    }
    target = std::chrono::duration_cast<std::remove_reference_t<decltype(target)>>(*parsed);
    return true;
  };
  if (!durationFlag(lease_d, lease_duration, options.lease_duration) ||
      !durationFlag(renew_d, renew_deadline, options.renew_deadline) ||
      !durationFlag(retry_p, retry_period, options.retry_period) ||
      !durationFlag(poll, poll_timeout, options.poll_timeout) ||
      !durationFlag(resync, resync_period, options.resync_period) ||
      !durationFlag(snapshot_ttl_flag, snapshot_ttl, options.snapshot_ttl) ||
      !durationFlag(snapshot_deadline_flag, snapshot_start_deadline,
                    options.snapshot_start_deadline)) {
    return 2;
  }
  if (auto valid = kprof::manager::validate(options); !valid) {
    std::cerr << "kprof-operator: " << valid.error().message << "\n";
    return 2;
  }

  auto cluster =
      kprof::kube::resolveClusterConfig(kubeconfig, kprof::kube::Environment::fromProcess(),
                                        context);
  if (!cluster) {
    std::cerr << "kprof-operator: " << cluster.error().message << "\n";
    return 2;
  }
  auto client = kprof::kube::KubeClient::create(*cluster);
  if (!client) {
    std::cerr << "kprof-operator: " << client.error().message << "\n";
    return 2;
  }
  log->info("API server {} ({})", cluster->server, cluster->source);

  // Signals are taken synchronously by waitForTermination; block them in every thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kprof::SystemClock clock;
  kprof::manager::Operator op(**client, clock, options);
  if (auto started = op.start(); !started) {
    log->error("{}", started.error().toString());
    return 1;
  }
  waitForTermination();
  log->info("shutting down");
  op.stop();
  return 0;
}
