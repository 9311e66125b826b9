#include "operator/manager/operator.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <thread>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

#include <prometheus/gauge.h>

#include "common/http/certificate_store.hpp"
#include "common/http/server.hpp"
#include "common/log/log.hpp"
#include "common/metrics/metrics.hpp"
#include "controllers/policy_reconciler/policy_reconciler.hpp"
#include "controllers/snapshot_reconciler/command_book.hpp"
#include "controllers/snapshot_reconciler/snapshot_reconciler.hpp"
#include "controllers/webhook_certs/webhook_cert_manager.hpp"
#include "operator/agentapi/agent_config_api.hpp"
#include "operator/agentapi/config_registry.hpp"
#include "operator/agentapi/target_secrets.hpp"
#include "operator/agentapi/token_reviewer.hpp"
#include "operator/manager/controller.hpp"
#include "operator/runtime/event_recorder.hpp"
#include "operator/runtime/informer.hpp"
#include "operator/runtime/leader_elector.hpp"
#include "webhooks/receiver/alert_receiver.hpp"
#include "webhooks/receiver/snapshot_starter.hpp"
#include "webhooks/server/pod_webhook.hpp"

namespace kprof::manager {
namespace {

using controllers::CachedObject;

// The reconciler's view of the two informers' caches.
class InformerPolicyCache final : public controllers::PolicyCache {
 public:
  InformerPolicyCache(const runtime::Cache& policies, const runtime::Cache& pods)
      : policies_(policies), pods_(pods) {}
  CachedObject policy(std::string_view ns, std::string_view name) const override {
    return policies_.get(controllers::objectKey(ns, name));
  }
  std::vector<CachedObject> policies(std::string_view ns) const override {
    return policies_.list(ns);
  }
  std::vector<CachedObject> pods(std::string_view ns) const override { return pods_.list(ns); }

 private:
  const runtime::Cache& policies_;
  const runtime::Cache& pods_;
};

// What the admission webhook reads, from the namespace and policy informers' caches.
class InformerAdmissionLookup final : public webhooks::AdmissionLookup {
 public:
  InformerAdmissionLookup(const runtime::Cache& namespaces, const runtime::Cache& policies)
      : namespaces_(namespaces), policies_(policies) {}
  webhooks::NamespaceInfo namespaceInfo(const std::string& name) override {
    webhooks::NamespaceInfo info{name, {}};
    const CachedObject ns = namespaces_.get(name);
    if (ns) {
      const auto labels = ns->value("/metadata/labels"_json_pointer, nlohmann::json::object());
      for (const auto& [key, value] : labels.items()) {
        if (value.is_string()) info.labels[key] = value.get<std::string>();
      }
    }
    return info;
  }
  std::vector<controllers::ProfilingPolicy> policies(const std::string& ns) override {
    std::vector<controllers::ProfilingPolicy> policies;
    for (const CachedObject& object : policies_.list(ns)) {
      auto policy = controllers::readProfilingPolicy(*object);
      if (policy) policies.push_back(std::move(*policy));
    }
    return policies;
  }

 private:
  const runtime::Cache& namespaces_;
  const runtime::Cache& policies_;
};

// The snapshot reconciler's view of the caches and the agents' reports.
class InformerSnapshotInputs final : public controllers::SnapshotInputs {
 public:
  InformerSnapshotInputs(const runtime::Cache& snapshots, const runtime::Cache& pods,
                         const agentapi::ConfigRegistry& registry)
      : snapshots_(snapshots), pods_(pods), registry_(registry) {}
  CachedObject snapshot(std::string_view ns, std::string_view name) const override {
    return snapshots_.get(controllers::objectKey(ns, name));
  }
  bool podExists(std::string_view ns, std::string_view name) const override {
    return pods_.get(controllers::objectKey(ns, name)) != nullptr;
  }
  std::optional<nlohmann::json> agentReport(const std::string& pod_key) const override {
    return registry_.report(pod_key);
  }

 private:
  const runtime::Cache& snapshots_;
  const runtime::Cache& pods_;
  const agentapi::ConfigRegistry& registry_;
};

// What alert routing reads: valid policies with triggers, the pods each enrolled (labeled
// kprof.dev/policy=<name>, not finished or terminating), and the snapshots that exist.
class InformerRoutingInputs final : public webhooks::RoutingInputs {
 public:
  InformerRoutingInputs(const runtime::Cache& policies, const runtime::Cache& pods,
                        const runtime::Cache& snapshots)
      : policies_(policies), pods_(pods), snapshots_(snapshots) {}
  std::vector<webhooks::RoutablePolicy> policies() const override {
    std::vector<webhooks::RoutablePolicy> out;
    for (const CachedObject& object : policies_.list("")) {
      auto policy = controllers::readProfilingPolicy(*object);
      if (!policy || !policy->valid() || policy->spec.snapshot_triggers.empty()) continue;
      webhooks::RoutablePolicy routable{policy->metadata.namespace_name, policy->metadata.name,
                                        policy->metadata.uid, policy->spec.snapshot_triggers, {}};
      for (const CachedObject& pod : pods_.list(routable.namespace_name)) {
        if (enrolledBy(*pod, routable.name)) routable.pods.push_back(webhooks::routablePod(*pod));
      }
      out.push_back(std::move(routable));
    }
    return out;
  }
  std::vector<webhooks::KnownSnapshot> snapshots() const override {
    std::vector<webhooks::KnownSnapshot> out;
    for (const CachedObject& object : snapshots_.list("")) {
      if (auto snapshot = controllers::readProfileSnapshot(*object)) {
        out.push_back(webhooks::knownSnapshot(*snapshot));
      }
    }
    return out;
  }

 private:
  static bool enrolledBy(const kube::Object& pod, const std::string& policy) {
    const auto metadata = pod.value("metadata", nlohmann::json::object());
    if (metadata.contains("deletionTimestamp")) return false;
    const std::string phase = pod.value("/status/phase"_json_pointer, std::string());
    if (phase == "Succeeded" || phase == "Failed") return false;
    const auto labels = metadata.value("labels", nlohmann::json::object());
    return labels.is_object() && labels.value(std::string(controllers::kPolicyLabel), "") == policy;
  }
  const runtime::Cache& policies_;
  const runtime::Cache& pods_;
  const runtime::Cache& snapshots_;
};

// Re-checks the webhook certificates every interval until stopped.
class CertificateRefresher {
 public:
  CertificateRefresher(controllers::WebhookCertManager& manager, std::chrono::seconds interval)
      : thread_([&manager, interval, this](std::stop_token stop) {
          std::mutex mutex;
          std::unique_lock lock(mutex);
          while (!wake_.wait_for(lock, stop, interval, [] { return false; })) {
            if (stop.stop_requested()) return;
            if (auto synced = manager.sync(); !synced) {
              log::logger("webhook-certs")->error("certificate check: {}", synced.error().toString());
            }
          }
        }) {}

 private:
  std::condition_variable_any wake_;
  std::jthread thread_;
};

// Secrets change rarely and one policy's pods share them: read each at most every 30 s.
class CachingSecretReader final : public agentapi::SecretReader {
 public:
  CachingSecretReader(kube::Api& api, Clock& clock) : reader_(api), clock_(clock) {}
  Result<agentapi::SecretData> read(std::string_view ns, std::string_view name) override {
    const std::string key = controllers::objectKey(ns, name);
    std::lock_guard lock(mutex_);
    const auto found = cache_.find(key);
    if (found != cache_.end() && clock_.now() - found->second.read_at < kTtl) {
      return found->second.data;
    }
    auto data = reader_.read(ns, name);
    if (data || data.error().code == ErrorCode::NotFound) {
      if (cache_.size() > kMaxEntries) {
        cache_.clear();
      }
      cache_.insert_or_assign(key, Entry{data, clock_.now()});
    }
    return data;
  }

 private:
  static constexpr auto kTtl = std::chrono::seconds(30);
  static constexpr size_t kMaxEntries = 1024;
  struct Entry {
    Result<agentapi::SecretData> data;
    Clock::SteadyTime read_at;
  };
  agentapi::KubeSecretReader reader_;
  Clock& clock_;
  std::mutex mutex_;
  std::map<std::string, Entry> cache_;
};

// Agent configs go to the registry with Secret references resolved into credentials.
class RegistryAgentSink final : public controllers::AgentConfigSink {
 public:
  RegistryAgentSink(agentapi::ConfigRegistry& registry, agentapi::SecretReader& secrets,
                    std::string embedded_store_url)
      : registry_(registry), secrets_(secrets), options_{std::move(embedded_store_url)} {}
  void publish(const std::string& pod_key, const nlohmann::json& config) override {
    auto resolved = agentapi::resolveTargetSecrets(config, secrets_, options_);
    if (!resolved) {
      log::logger("operator")->error("agent config for {}: {}", pod_key,
                                     resolved.error().toString());
      return;
    }
    for (const auto& dropped : resolved->dropped) {
      log::logger("operator")->warn("agent config for {}: target {} dropped: {}", pod_key,
                                    dropped.index, dropped.reason);
    }
    registry_.publish(pod_key, std::move(resolved->config));
  }
  void retract(const std::string& pod_key) override { registry_.remove(pod_key); }
  std::optional<controllers::WallTime> lastReport(const std::string& pod_key) const override {
    return registry_.lastSeen(pod_key);
  }

 private:
  agentapi::ConfigRegistry& registry_;
  agentapi::SecretReader& secrets_;
  agentapi::ResolveOptions options_;
};

class RecorderEventSink final : public controllers::EventSink {
 public:
  explicit RecorderEventSink(runtime::EventRecorder& recorder) : recorder_(recorder) {}
  void record(const kube::Object& involved, const controllers::PolicyEvent& event) override {
    recorder_.record(involved,
                     event.type == controllers::EventType::Warning ? runtime::EventType::Warning
                                                                   : runtime::EventType::Normal,
                     event.reason, event.message);
  }

 private:
  runtime::EventRecorder& recorder_;
};

runtime::InformerOptions informerOptions(const kube::ResourceType& type,
                                         std::chrono::seconds resync,
                                         runtime::Transform transform) {
  runtime::InformerOptions options;
  options.type = type;
  options.resync_period = resync;
  options.transform = std::move(transform);
  return options;
}

controllers::SnapshotReconcilerOptions snapshotOptions(const OperatorOptions& options) {
  controllers::SnapshotReconcilerOptions out;
  out.plan.ttl = options.snapshot_ttl;
  out.plan.start_deadline = options.snapshot_start_deadline;
  out.embedded_store_url = options.embedded_store_url;
  return out;
}

}  // namespace

Status validate(const OperatorOptions& options) {
  if (options.leader_elect) {
    if (options.identity.empty()) {
      return fail(ErrorCode::InvalidArgument, "--identity: empty (needed for leader election)");
    }
    if (options.namespace_name.empty() || options.lease_name.empty()) {
      return fail(ErrorCode::InvalidArgument, "--namespace and --lease-name must be set");
    }
    if (!(options.lease_duration > options.renew_deadline &&
          options.renew_deadline > options.retry_period && options.retry_period.count() > 0)) {
      return fail(ErrorCode::InvalidArgument,
                  "leader election: need lease duration > renew deadline > retry period > 0");
    }
  }
  if (options.agent_api_certificate_file.empty() != options.agent_api_key_file.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "--agent-api-cert and --agent-api-key go together: give both or neither");
  }
  if (options.webhook_certificate_file.empty() != options.webhook_key_file.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "--webhook-cert and --webhook-key go together: give both or neither");
  }
  if (options.webhook_enabled && options.webhook_certificate_file.empty() &&
      (options.webhook_service.empty() || options.webhook_secret.empty() ||
       options.webhook_cert_dir.empty())) {
    return fail(ErrorCode::InvalidArgument,
                "self-managed webhook certificates need --webhook-service, --webhook-secret and "
                "--webhook-cert-dir");
  }
  if (!options.alert_token_file.empty() && !options.alert_token_secret.empty()) {
    return fail(ErrorCode::InvalidArgument,
                "--alert-token-file and --alert-token-secret: give one token source, not both");
  }
  if (options.snapshot_ttl < std::chrono::seconds(60) ||
      options.snapshot_start_deadline < std::chrono::seconds(5)) {
    return fail(ErrorCode::InvalidArgument,
                "--snapshot-ttl must be at least 1m and --snapshot-start-deadline at least 5s");
  }
  if (options.workers < 1 || options.workers > 64) {
    return fail(ErrorCode::InvalidArgument, "--workers: must be 1..64");
  }
  if (options.poll_timeout < std::chrono::seconds(1)) {
    return fail(ErrorCode::InvalidArgument, "--poll-timeout: must be at least 1s");
  }
  return ok();
}

struct Operator::Parts {
  Parts(kube::Api& api_in, Clock& clock_in, OperatorOptions options_in)
      : api(api_in),
        clock(clock_in),
        options(std::move(options_in)),
        controller_metrics(metrics.registry()),
        policies(api, clock,
                 informerOptions(kube::resources::kProfilingPolicies, options.resync_period,
                                 runtime::dropNoise)),
        pods(api, clock,
             informerOptions(kube::resources::kPods, options.resync_period,
                             runtime::prunePodForCache)),
        namespaces(api, clock,
                   informerOptions(kube::resources::kNamespaces, options.resync_period,
                                   runtime::dropNoise)),
        snapshots(api, clock,
                  informerOptions(kube::resources::kProfileSnapshots, options.resync_period,
                                  runtime::dropNoise)),
        cache(policies.cache(), pods.cache()),
        admission_lookup(namespaces.cache(), policies.cache()),
        registry(clock),
        secrets(api, clock),
        agent_sink(registry, secrets, options.embedded_store_url),
        command_book(agent_sink),
        recorder(api, clock, runtime::EventRecorderOptions{.reporting_instance = options.identity}),
        event_sink(recorder),
        reconciler(api, cache, command_book, event_sink, clock),
        snapshot_inputs(snapshots.cache(), pods.cache(), registry),
        snapshot_reconciler(api, snapshot_inputs, command_book, clock, snapshotOptions(options)),
        routing_inputs(policies.cache(), pods.cache(), snapshots.cache()),
        snapshot_starter(api, routing_inputs, metrics.registry()),
        snapshot_controller(
            "profilesnapshot", clock,
            [this](const std::string& key) { return snapshot_reconciler.reconcile(key); },
            2, &controller_metrics),
        reviewer(api, clock),
        controller(
            "profilingpolicy", clock,
            [this](const std::string& key) -> Result<std::optional<std::chrono::seconds>> {
              auto report = reconciler.reconcile(key);
              if (!report) {
                return Unexpected{report.error()};
              }
              if (report->next.kind == controllers::NextAction::Kind::RequeueAfter) {
                return std::optional<std::chrono::seconds>(report->next.after);
              }
              return std::optional<std::chrono::seconds>();
            },
            options.workers, &controller_metrics) {}

  // The informers' caches, measured at scrape time.
  void updateCacheGauges() {
    for (const auto& [resource, informer] :
         {std::pair{"profilingpolicies", &policies}, std::pair{"pods", &pods},
          std::pair{"profilesnapshots", &snapshots}}) {
      cache_objects.Add({{"resource", resource}})
          .Set(static_cast<double>(informer->cache().size()));
      cache_bytes.Add({{"resource", resource}})
          .Set(static_cast<double>(informer->cache().approximateBytes()));
    }
  }

  void enqueueAllPolicies() {
    for (const std::string& key : policies.cache().keys()) {
      controller.enqueue(key);
    }
  }

  kube::Api& api;
  Clock& clock;
  OperatorOptions options;
  metrics::MetricsRegistry metrics;
  ControllerMetrics controller_metrics;
  prometheus::Family<prometheus::Gauge>& cache_objects = prometheus::BuildGauge()
      .Name("kprof_cache_objects")
      .Help("Objects held in the operator's informer caches")
      .Register(metrics.registry());
  prometheus::Family<prometheus::Gauge>& cache_bytes = prometheus::BuildGauge()
      .Name("kprof_cache_bytes")
      .Help("Estimated heap bytes of the operator's informer caches")
      .Register(metrics.registry());
  runtime::Informer policies;
  runtime::Informer pods;
  runtime::Informer namespaces;  // started only with the webhook
  runtime::Informer snapshots;
  InformerPolicyCache cache;
  InformerAdmissionLookup admission_lookup;
  agentapi::ConfigRegistry registry;
  CachingSecretReader secrets;
  RegistryAgentSink agent_sink;
  controllers::CommandBook command_book;  // agent configs pass through it to agent_sink
  runtime::EventRecorder recorder;
  RecorderEventSink event_sink;
  controllers::PolicyReconciler reconciler;
  InformerSnapshotInputs snapshot_inputs;
  controllers::SnapshotReconciler snapshot_reconciler;
  InformerRoutingInputs routing_inputs;
  webhooks::SnapshotStarter snapshot_starter;
  Controller snapshot_controller;
  std::unique_ptr<webhooks::AlertToken> alert_token;
  std::unique_ptr<webhooks::AlertReceiver> alert_receiver;
  agentapi::KubeTokenReviewer reviewer;
  Controller controller;
  std::unique_ptr<runtime::LeaderElector> elector;
  std::unique_ptr<http::Server> health_server;
  std::unique_ptr<http::Server> agent_server;
  std::unique_ptr<controllers::WebhookCertManager> cert_manager;
  std::unique_ptr<CertificateRefresher> cert_refresher;
  std::unique_ptr<http::Server> webhook_server;
  std::atomic<bool> started{false};
  std::atomic<bool> stopped{false};
};

Operator::Operator(kube::Api& api, Clock& clock, OperatorOptions options)
    : parts_(std::make_unique<Parts>(api, clock, std::move(options))) {}

Operator::~Operator() {
  stop();
}

Status Operator::start() {
  Parts& p = *parts_;
  KPROF_TRY(validate(p.options));
  auto log = log::logger("operator");

  // Servers first: a port that cannot be bound should fail start-up before anything else runs.
  p.health_server = std::make_unique<http::Server>(
      http::ServerOptions{.host = p.options.listen_host, .port = p.options.health_port});
  p.health_server->route("GET", "/healthz", [](const http::Request&) {
    return http::Response::text(200, "ok\n");
  });
  p.health_server->route("GET", "/readyz", [this](const http::Request&) {
    return ready() ? http::Response::text(200, "ok\n")
                   : http::Response::text(503, "caches not synced yet\n");
  });
  p.health_server->route("GET", "/metrics", [&p](const http::Request&) {
    p.updateCacheGauges();
    http::Response response = http::Response::text(200, p.metrics.render());
    response.content_type = std::string(metrics::kTextContentType);
    return response;
  });
  KPROF_TRY(p.health_server->start());

  http::ServerOptions agent_options{.host = p.options.listen_host,
                                    .port = p.options.agent_api_port};
  if (!p.options.agent_api_certificate_file.empty()) {
    auto store = http::CertificateStore::open(
        http::CertificateFiles{p.options.agent_api_certificate_file,
                               p.options.agent_api_key_file},
        std::chrono::seconds(10), p.clock);
    if (!store) {
      return Unexpected{store.error().wrap("agent API certificate")};
    }
    agent_options.certificates = *store;
  }
  p.agent_server = std::make_unique<http::Server>(std::move(agent_options));
  agentapi::registerAgentConfigApi(
      *p.agent_server, p.registry, p.reviewer,
      agentapi::AgentApiOptions{.poll_timeout = p.options.poll_timeout,
                                .metrics = &p.metrics.registry()});
  p.registry.startTimer();
  if (!p.options.alert_token_file.empty()) {
    p.alert_token = std::make_unique<webhooks::FileAlertToken>(p.options.alert_token_file);
  } else if (!p.options.alert_token_secret.empty()) {
    p.alert_token = std::make_unique<webhooks::SecretAlertToken>(
        p.api, p.clock, p.options.namespace_name, p.options.alert_token_secret, "token");
  }
  if (p.alert_token) {
    p.alert_receiver = std::make_unique<webhooks::AlertReceiver>(
        *p.alert_token,
        [&p](const webhooks::ReceivedAlerts& alerts) { p.snapshot_starter.handle(alerts); },
        p.clock, p.metrics.registry());
    p.alert_receiver->registerRoute(*p.agent_server);
  }
  KPROF_TRY(p.agent_server->start());
  KPROF_TRY(startWebhook());

  p.policies.onChange([&p](const std::string& key) { p.controller.enqueue(key); });
  p.pods.onChange([&p](const std::string& key) {
    const auto [ns, name] = controllers::splitKey(key);
    const CachedObject pod = p.pods.cache().get(key);
    if (!pod) {
      for (const CachedObject& policy : p.policies.cache().list(ns)) {
        p.controller.enqueue(runtime::cacheKey(*policy));
      }
      return;
    }
    for (const std::string& policy_key :
         controllers::policyKeysForPod(*pod, p.policies.cache().list(ns))) {
      p.controller.enqueue(policy_key);
    }
  });
  p.snapshots.onChange([&p](const std::string& key) { p.snapshot_controller.enqueue(key); });
  p.policies.start();
  p.pods.start();
  p.snapshots.start();

  if (p.options.leader_elect) {
    p.reconciler.setWriting(false);
    p.snapshot_reconciler.setWriting(false);
    runtime::LeaderElectionConfig config;
    config.ns = p.options.namespace_name;
    config.name = p.options.lease_name;
    config.identity = p.options.identity;
    config.timing.lease_duration = p.options.lease_duration;
    config.timing.renew_deadline = p.options.renew_deadline;
    config.timing.retry_period = p.options.retry_period;
    config.release_on_cancel = p.options.release_on_stop;
    runtime::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&p, log](std::stop_token) {
      log->info("{} is the leader: writing status, labels and events", p.options.identity);
      p.reconciler.setWriting(true);
      p.snapshot_reconciler.setWriting(true);
      p.enqueueAllPolicies();
      for (const std::string& key : p.snapshots.cache().keys()) p.snapshot_controller.enqueue(key);
    };
    callbacks.on_stopped_leading = [&p, log] {
      log->info("{} stopped leading: planning only", p.options.identity);
      p.reconciler.setWriting(false);
      p.snapshot_reconciler.setWriting(false);
    };
    p.elector = std::make_unique<runtime::LeaderElector>(p.api, p.clock, std::move(config),
                                                         std::move(callbacks));
    p.elector->start();
  }
  p.controller.start();
  p.snapshot_controller.start();
  if (p.alert_receiver) {
    p.alert_receiver->start();
  }
  p.started = true;
  log->info("operator {} started: health on port {}, agent config API on {}{}", p.options.identity,
            p.health_server->port(), p.agent_server->url(),
            p.alert_receiver ? ", Alertmanager receiver on " + p.agent_server->url() +
                                   std::string(webhooks::kAlertsPath)
                             : std::string());
  return ok();
}

Status Operator::startWebhook() {
  Parts& p = *parts_;
  if (!p.options.webhook_enabled) {
    return ok();
  }
  http::CertificateFiles files{p.options.webhook_certificate_file, p.options.webhook_key_file};
  if (files.certificate_file.empty()) {
    controllers::WebhookCertOptions cert_options;
    cert_options.namespace_name = p.options.namespace_name;
    cert_options.secret_name = p.options.webhook_secret;
    cert_options.webhook_configuration = p.options.webhook_configuration;
    cert_options.directory = p.options.webhook_cert_dir;
    cert_options.settings.dns_names =
        controllers::serviceDnsNames(p.options.webhook_service, p.options.namespace_name);
    p.cert_manager =
        std::make_unique<controllers::WebhookCertManager>(p.api, p.clock, std::move(cert_options));
    if (auto synced = p.cert_manager->sync(); !synced) {
      return Unexpected{synced.error().wrap("webhook certificates")};
    }
    files = p.cert_manager->files();
  }
  auto store = http::CertificateStore::open(files, std::chrono::seconds(10), p.clock);
  if (!store) {
    return Unexpected{store.error().wrap("webhook certificate")};
  }
  p.webhook_server = std::make_unique<http::Server>(
      http::ServerOptions{.host = p.options.listen_host,
                          .port = p.options.webhook_port,
                          .certificates = *store,
                          .max_body_bytes = webhooks::kMaxAdmissionReviewBytes});
  webhooks::registerPodWebhook(*p.webhook_server, p.admission_lookup, p.options.injection,
                               p.metrics.registry());
  KPROF_TRY(p.webhook_server->start());
  p.namespaces.start();
  if (p.cert_manager) {
    p.cert_refresher = std::make_unique<CertificateRefresher>(
        *p.cert_manager, p.options.webhook_cert_check_interval);
  }
  log::logger("operator")->info("admission webhook on {}{}", p.webhook_server->url(),
                                webhooks::kMutatePodsPath);
  return ok();
}

void Operator::stop() {
  Parts& p = *parts_;
  if (!p.started || p.stopped.exchange(true)) {
    return;
  }
  p.cert_refresher.reset();
  if (p.alert_receiver) {
    p.alert_receiver->stop();
  }
  p.controller.stop();
  p.snapshot_controller.stop();
  if (p.elector) {
    p.elector->stop();  // releases the Lease when configured to
  }
  p.policies.stop();
  p.pods.stop();
  p.snapshots.stop();
  p.recorder.flush(std::chrono::seconds(2));
  p.recorder.stop();
  if (p.webhook_server) {
    p.webhook_server->stop(std::chrono::seconds(1));
    p.namespaces.stop();
  }
  p.agent_server->stop(std::chrono::seconds(1));
  p.health_server->stop(std::chrono::seconds(1));
  log::logger("operator")->info("operator {} stopped", p.options.identity);
}

bool Operator::ready() const {
  return parts_->policies.hasSynced() && parts_->pods.hasSynced() &&
         parts_->snapshots.hasSynced() &&
         (!parts_->webhook_server || parts_->namespaces.hasSynced());
}

bool Operator::leading() const {
  return !parts_->options.leader_elect || (parts_->elector && parts_->elector->isLeader());
}

uint16_t Operator::healthPort() const {
  return parts_->health_server ? parts_->health_server->port() : 0;
}

uint16_t Operator::agentApiPort() const {
  return parts_->agent_server ? parts_->agent_server->port() : 0;
}

uint16_t Operator::webhookPort() const {
  return parts_->webhook_server ? parts_->webhook_server->port() : 0;
}

std::string Operator::agentApiUrl() const {
  return parts_->agent_server ? parts_->agent_server->url() : "";
}

}  // namespace kprof::manager
