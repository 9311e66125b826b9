// The Helm chart as a platform team installs it. The real helm lints and renders it and refuses
// values its schema does not allow; the rendered objects fit together (selectors, ports, the
// config file the operator reads, the service account the RBAC names). Then the whole rendered
// chart is loaded into the fake API server, which enforces the chart's RBAC, and the operator —
// configured from the rendered ConfigMap, authenticated as the chart's service account — runs a
// policy, injects a pod through its webhook, answers an agent, and captures a snapshot for an
// alert, without one request refused.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/core/base64.hpp"
#include "common/http/client.hpp"
#include "operator/cmd/operator_config.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/manager/operator.hpp"
#include "tests/chart/helm_chart.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"
#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;
namespace resources = kube::resources;
using testing::findObject;

class HelmChart : public ::testing::Test {
 protected:
  void SetUp() override {
    if (testing::helmBinary().empty()) {
      FAIL() << "helm is not installed at tests/tools/bin/helm; scripts/install-deps.sh unpacks it";
    }
  }

  std::vector<json> render(const std::vector<std::string>& values = {}) {
    auto objects = testing::renderChart(values);
    EXPECT_TRUE(objects) << objects.error().message;
    return objects ? *objects : std::vector<json>{};
  }
};

// The name a pod of the Deployment gets, as its POD_NAME (the leader-election identity) holds.
constexpr const char* kPodName = "kprof-operator-7d9f-x2x4q";

// The operator's settings as a pod of the rendered Deployment has them: its POD_NAME from the
// downward API, then the ConfigMap read with `kprof-operator --config`.
Result<manager::OperatorOptions> operatorOptions(const std::vector<json>& objects) {
  const json config = findObject(objects, "ConfigMap", "kprof-operator");
  const json deployment = findObject(objects, "Deployment", "kprof-operator");
  if (config.is_null() || deployment.is_null()) {
    return makeError(ErrorCode::NotFound, "no ConfigMap or Deployment kprof-operator");
  }
  manager::OperatorOptions options;
  for (const json& env : deployment.value("/spec/template/spec/containers/0/env"_json_pointer,
                                          json::array())) {
    if (env.value("name", "") == "POD_NAME" &&
        env.value("/valueFrom/fieldRef/fieldPath"_json_pointer, std::string()) == "metadata.name") {
      options.identity = kPodName;
    }
  }
  if (auto applied = manager::applyOperatorYaml(
          config.value("/data/operator.yaml"_json_pointer, std::string()), options);
      !applied) {
    return Unexpected{applied.error()};
  }
  if (auto valid = manager::validate(options); !valid) {
    return Unexpected{valid.error()};
  }
  return options;
}

bool selects(const json& selector, const json& labels) {
  for (const auto& [key, value] : selector.items()) {
    if (!labels.contains(key) || labels[key] != value) {
      return false;
    }
  }
  return !selector.empty();
}

// The container port a Service's targetPort (a name or a number) reaches; 0 when none.
int containerPort(const json& container, const json& target) {
  for (const json& port : container.value("ports", json::array())) {
    if ((target.is_string() && port.value("name", "") == target) ||
        (target.is_number() && port.value("containerPort", 0) == target)) {
      return port.value("containerPort", 0);
    }
  }
  return 0;
}

// The volume mounted at `path` in the container (subPath or not); a null json when none.
json volumeAt(const json& pod_spec, const json& container, const std::string& path) {
  for (const json& mount : container.value("volumeMounts", json::array())) {
    const std::string at = mount.value("mountPath", "");
    if (path == at || path.rfind(at + "/", 0) == 0) {
      for (const json& volume : pod_spec.value("volumes", json::array())) {
        if (volume.value("name", "") == mount.value("name", "")) {
          return volume;
        }
      }
    }
  }
  return nullptr;
}

TEST_F(HelmChart, LintsCleanWithDefaultsAndWithEveryFeatureOn) {
  for (const std::vector<std::string>& values :
       {std::vector<std::string>{},
        {"-f", std::string(KPROF_SOURCE_DIR) + "/tests/chart/values-all.yaml"}}) {
    std::vector<std::string> args = {"lint", "--strict", testing::chartDirectory()};
    args.insert(args.end(), values.begin(), values.end());
    const testing::ProcessResult lint = testing::runHelm(args);
    EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
    EXPECT_NE(lint.out.find("0 chart(s) failed"), std::string::npos) << lint.out;
  }
}

TEST_F(HelmChart, RefusesValuesItsSchemaDoesNotAllowAndSaysWhich) {
  struct Case {
    std::string set;
    std::string named;
  };
  for (const Case& bad : {Case{"operator.replicas=two", "/operator/replicas"},
                          Case{"snapshots.ttl=1day", "/snapshots/ttl"},
                          Case{"operator.logFormat=xml", "/operator/logFormat"},
                          Case{"webhok.enabled=false", "webhok"}}) {
    const testing::ProcessResult rendered =
        testing::runHelm({"template", "kprof", testing::chartDirectory(), "--set", bad.set});
    EXPECT_NE(rendered.exit_code, 0) << bad.set << " was accepted";
    EXPECT_NE(rendered.err.find(bad.named), std::string::npos) << bad.set << ": " << rendered.err;
  }
}

TEST_F(HelmChart, TheRenderedObjectsFitTogether) {
  const std::vector<json> objects = render();
  ASSERT_FALSE(objects.empty());

  // The CRDs are the project's own files.
  for (const fs::path& file : testing::kprofCrdFiles(KPROF_SOURCE_DIR)) {
    auto crds = testing::readManifestFile(file);
    ASSERT_TRUE(crds && crds->size() == 1) << file;
    const json& crd = crds->front();
    EXPECT_EQ(findObject(objects, "CustomResourceDefinition", crd["metadata"]["name"]), crd)
        << file;
  }

  const json deployment = findObject(objects, "Deployment", "kprof-operator");
  ASSERT_FALSE(deployment.is_null());
  EXPECT_EQ(deployment["spec"]["replicas"], 2) << "one replica would leave the webhook down on a drain";
  const json& pod = deployment["spec"]["template"];
  const json& container = pod["spec"]["containers"][0];
  EXPECT_TRUE(selects(deployment["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"]));
  EXPECT_EQ(container["image"], "ghcr.io/kprof/kprof-operator:0.1.0");

  // Both Services reach the operator's pods on ports its container opens.
  for (const std::string service_name : {"kprof-operator", "kprof-webhook"}) {
    const json service = findObject(objects, "Service", service_name);
    ASSERT_FALSE(service.is_null()) << service_name;
    EXPECT_TRUE(selects(service["spec"]["selector"], pod["metadata"]["labels"])) << service_name;
    for (const json& port : service["spec"]["ports"]) {
      EXPECT_GT(containerPort(container, port["targetPort"]), 0) << service_name << port.dump();
    }
  }
  const json budget = findObject(objects, "PodDisruptionBudget", "kprof-operator");
  ASSERT_FALSE(budget.is_null());
  EXPECT_TRUE(selects(budget["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"]));

  // The webhook configuration calls the webhook Service, which is not one kprof injects into.
  const json webhook = findObject(objects, "MutatingWebhookConfiguration", "kprof");
  ASSERT_FALSE(webhook.is_null());
  const json& client_service = webhook["webhooks"][0]["clientConfig"]["service"];
  EXPECT_EQ(client_service["name"], "kprof-webhook");
  EXPECT_EQ(client_service["namespace"], testing::kChartNamespace);
  EXPECT_EQ(client_service["port"], 443);
  EXPECT_EQ(webhook["webhooks"][0]["failurePolicy"], "Ignore");
  EXPECT_EQ(webhook["webhooks"][0]["objectSelector"]["matchExpressions"][0]["values"][0],
            pod["metadata"]["labels"]["app.kubernetes.io/name"]);

  // The operator reads the ConfigMap the Deployment mounts where its --config points.
  ASSERT_EQ(container["args"], json::array({"--config", "/etc/kprof/operator.yaml"}));
  const json config_volume = volumeAt(pod["spec"], container, "/etc/kprof/operator.yaml");
  EXPECT_EQ(config_volume.value("/configMap/name"_json_pointer, std::string()), "kprof-operator");
  auto options = operatorOptions(objects);
  ASSERT_TRUE(options) << options.error().message;
  EXPECT_TRUE(options->webhook_enabled);
  EXPECT_EQ(containerPort(container, "webhook"), options->webhook_port);
  EXPECT_EQ(containerPort(container, "agent-api"), options->agent_api_port);
  EXPECT_EQ(containerPort(container, "metrics"), options->health_port);
  EXPECT_EQ(pod["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"], "/readyz");
  // The self-managed certificates go to a writable volume (the root filesystem is read-only).
  EXPECT_FALSE(volumeAt(pod["spec"], container, options->webhook_cert_dir).is_null());
  EXPECT_EQ(options->namespace_name, testing::kChartNamespace);
  // Injected agents reach the agent API through the operator's Service, at the chart's versions.
  EXPECT_EQ(options->injection.operator_url, "http://kprof-operator.kprof-system.svc:8443");
  EXPECT_EQ(options->injection.agent_image, "ghcr.io/kprof/kprof-agent:0.1.0");
  EXPECT_EQ(options->injection.preload_image, "ghcr.io/kprof/kprof-preload:0.1.0");
  EXPECT_TRUE(options->alert_token_secret.empty()) << "the receiver is off by default";

  // The pods run as the service account the RBAC bindings name.
  const std::string account = pod["spec"].value("serviceAccountName", "");
  EXPECT_FALSE(findObject(objects, "ServiceAccount", account).is_null()) << account;
  for (const std::string kind : {"ClusterRoleBinding", "RoleBinding"}) {
    const json binding = findObject(objects, kind, "kprof-operator");
    ASSERT_FALSE(binding.is_null()) << kind;
    EXPECT_EQ(binding["subjects"][0]["name"], account) << kind;
    EXPECT_EQ(binding["subjects"][0]["namespace"], testing::kChartNamespace) << kind;
  }
}

TEST_F(HelmChart, AlertsAndAgentApiTlsReachTheOperatorConfig) {
  const std::vector<json> objects =
      render({"--set", "alerts.enabled=true", "--set", "agentApi.tlsSecretName=agent-api-tls"});
  auto options = operatorOptions(objects);
  ASSERT_TRUE(options) << options.error().message;
  // A generated token in the Secret the receiver reads.
  EXPECT_EQ(options->alert_token_secret, "kprof-alert-token");
  const json secret = findObject(objects, "Secret", "kprof-alert-token");
  ASSERT_FALSE(secret.is_null());
  auto token = base64Decode(secret.value("/data/token"_json_pointer, std::string()));
  ASSERT_TRUE(token);
  EXPECT_EQ(token->size(), 40u);
  // HTTPS with the named Secret, mounted where the config points; agents are told https.
  EXPECT_EQ(options->injection.operator_url, "https://kprof-operator.kprof-system.svc:8443");
  const json pod = findObject(objects, "Deployment", "kprof-operator")["spec"]["template"];
  const json tls = volumeAt(pod["spec"], pod["spec"]["containers"][0], options->agent_api_certificate_file);
  EXPECT_EQ(tls.value("/secret/secretName"_json_pointer, std::string()), "agent-api-tls");

  // A Secret of the user's own: the chart creates none and the operator reads that one.
  const std::vector<json> own = render({"--set", "alerts.enabled=true", "--set",
                                        "alerts.existingSecret=alertmanager-kprof"});
  EXPECT_TRUE(findObject(own, "Secret", "kprof-alert-token").is_null());
  auto own_options = operatorOptions(own);
  ASSERT_TRUE(own_options) << own_options.error().message;
  EXPECT_EQ(own_options->alert_token_secret, "alertmanager-kprof");
}

TEST_F(HelmChart, WithCertManagerTheWebhookCertificateIsIssuedAndTheOperatorCannotTouchTheWebhook) {
  const std::vector<json> objects = render({"--set", "certManager.enabled=true"});
  const json certificate = findObject(objects, "Certificate", "kprof-webhook");
  ASSERT_FALSE(certificate.is_null());
  EXPECT_EQ(certificate["spec"]["dnsNames"][0], "kprof-webhook.kprof-system.svc");
  const json webhook = findObject(objects, "MutatingWebhookConfiguration", "kprof");
  EXPECT_EQ(webhook.value("/metadata/annotations/cert-manager.io~1inject-ca-from"_json_pointer,
                          std::string()),
            "kprof-system/kprof-webhook");
  auto options = operatorOptions(objects);
  ASSERT_TRUE(options) << options.error().message;
  const json pod = findObject(objects, "Deployment", "kprof-operator")["spec"]["template"];
  const json tls = volumeAt(pod["spec"], pod["spec"]["containers"][0], options->webhook_certificate_file);
  EXPECT_EQ(tls.value("/secret/secretName"_json_pointer, std::string()),
            certificate["spec"]["secretName"]);
  // cert-manager owns the caBundle, so the operator gets no right to the webhook configuration.
  const std::string rules = findObject(objects, "ClusterRole", "kprof-operator")["rules"].dump();
  EXPECT_EQ(rules.find("mutatingwebhookconfigurations"), std::string::npos) << rules;
}

// ---- the operator under the chart's RBAC ----

json checkoutPolicy() {
  return {{"apiVersion", "kprof.dev/v1alpha1"},
          {"kind", "ProfilingPolicy"},
          {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
          {"spec",
           {{"selector", {{"matchLabels", {{"app", "checkout"}}}}},
            {"environment", "prod"},
            {"targets",
             {{{"pyroscope",
                {{"url", "http://127.0.0.1:9"},
                 {"authSecretRef",
                  {{"name", "pyroscope"}, {"key", "token"}, {"type", "bearer"}}}}}}}},
            {"snapshotTriggers",
             {{{"name", "latency"},
               {"alertMatchers", {"alertname=\"CheckoutSlow\""}},
               {"durationSeconds", 5}}}}}}};
}

json checkoutPod(const std::string& name, json annotations) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"namespace", "shop"},
            {"labels", {{"app", "checkout"}}},
            {"annotations", std::move(annotations)}}},
          {"spec",
           {{"nodeName", "node-a"},
            {"containers", {{{"name", "app"}, {"image", "registry.local/checkout:3.2"}}}}}}};
}

std::string alertPayload() {
  return json{{"version", "4"},
              {"status", "firing"},
              {"receiver", "kprof"},
              {"groupKey", "{}:{alertname=\"CheckoutSlow\"}"},
              {"alerts",
               {{{"status", "firing"},
                 {"labels", {{"alertname", "CheckoutSlow"}, {"namespace", "shop"},
                             {"pod", "checkout-1"}}},
                 {"annotations", json::object()},
                 {"startsAt", "2026-12-05T04:00:00Z"},
                 {"fingerprint", "5a1e0c0ffee"}}}}}
      .dump();
}

class OperatorUnderChartRbac : public HelmChart {
 protected:
  void SetUp() override {
    HelmChart::SetUp();
    if (HasFatalFailure()) return;
    dir_ = fs::temp_directory_path() / ("kprof-chart-test-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    auto yaml = testing::renderChartYaml({"--set", "alerts.enabled=true"});
    ASSERT_TRUE(yaml) << yaml.error().message;
    auto parsed = testing::parseYamlDocuments(*yaml);
    ASSERT_TRUE(parsed);
    objects_ = *parsed;

    testing::FakeApiServerOptions fake_options;
    fake_options.authorize_rbac = true;
    fake_options.initial_namespaces = {"default", "kube-system", "kprof-system"};
    auto fake = testing::FakeApiServer::make(std::move(fake_options));
    ASSERT_TRUE(fake) << fake.error().toString();
    fake_ = std::move(*fake);
    // An administrator, as `helm install` runs: system:masters bound to everything.
    ASSERT_TRUE(fake_->createObject(
        testing::kClusterRoles,
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRole"},
         {"metadata", {{"name", "cluster-admin"}}},
         {"rules", {{{"apiGroups", {"*"}}, {"resources", {"*"}}, {"verbs", {"*"}}}}}}));
    ASSERT_TRUE(fake_->createObject(
        testing::kClusterRoleBindings,
        {{"apiVersion", "rbac.authorization.k8s.io/v1"},
         {"kind", "ClusterRoleBinding"},
         {"metadata", {{"name", "cluster-admin"}}},
         {"roleRef", {{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"},
                      {"name", "cluster-admin"}}},
         {"subjects", {{{"kind", "Group"}, {"name", "system:masters"}}}}}));
    fake_->addToken("admin-token", {.username = "kubernetes-admin", .groups = {"system:masters"}});
    fake_->addToken("operator-token",
                    {.username = "system:serviceaccount:kprof-system:kprof-operator",
                     .groups = {"system:serviceaccounts", "system:serviceaccounts:kprof-system"}});
    // The whole chart, as helm would apply it.
    std::ofstream(dir_ / "chart.yaml") << *yaml;
    auto loaded = fake_->loadManifestFile(dir_ / "chart.yaml");
    ASSERT_TRUE(loaded) << loaded.error().toString();
    ASSERT_TRUE(fake_->start());

    admin_ = client("admin-token");
    operator_client_ = client("operator-token");
    ASSERT_TRUE(admin_ && operator_client_);
  }

  void TearDown() override {
    if (op_) op_->stop();
    if (fake_ && HasFailure()) {
      for (const std::string& reason : fake_->deniedRequests()) {
        std::cout << "refused: " << reason << "\n";
      }
    }
    if (fake_) fake_->stop();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  std::unique_ptr<kube::KubeClient> client(const std::string& token) {
    kube::ClusterConfig config;
    config.server = fake_->url();
    config.token = token;
    auto made = kube::KubeClient::create(config);
    return made ? std::move(*made) : nullptr;
  }

  Result<http::Response> call(const std::string& method, const std::string& path,
                              const std::string& token, const std::string& body = "",
                              std::map<std::string, std::string> query = {}) {
    auto agent_api = http::Client::create(http::ClientOptions{.base_url = op_->agentApiUrl()});
    if (!agent_api) return Unexpected{agent_api.error()};
    http::Request request;
    request.method = method;
    request.path = path;
    request.query = std::move(query);  // e.g. version=0: a config poll answered at once
    request.body = body;
    request.headers.set("Authorization", "Bearer " + token);
    return (*agent_api)->send(request, 5s);
  }

  // The snapshot ids in the agent's config.
  std::vector<std::string> commandIds() {
    std::vector<std::string> ids;
    auto answer = call("GET", "/v1/agents/config", "agent-token", "", {{"version", "0"}});
    if (!answer || answer->status != 200) return ids;
    const json body = json::parse(answer->body, nullptr, false);
    for (const json& command : body.value("/config/snapshots"_json_pointer, json::array())) {
      ids.push_back(command.value("id", ""));
    }
    return ids;
  }

  fs::path dir_;
  std::vector<json> objects_;
  std::unique_ptr<testing::FakeApiServer> fake_;
  std::unique_ptr<kube::KubeClient> admin_;
  std::unique_ptr<kube::KubeClient> operator_client_;
  SystemClock clock_;
  std::unique_ptr<manager::Operator> op_;
};

bool eventually(const std::function<bool()>& done) {
  return testing::eventuallyWithin(done, 20s);
}

TEST_F(OperatorUnderChartRbac, EveryRequestTheOperatorMakesIsGranted) {
  // The operator as the Deployment runs it: the rendered config, its pod's name; ports and the
  // certificate directory are the test's own.
  auto options = operatorOptions(objects_);
  ASSERT_TRUE(options) << options.error().message;
  ASSERT_FALSE(options->alert_token_secret.empty());
  options->listen_host = "127.0.0.1";
  options->health_port = 0;
  options->agent_api_port = 0;
  options->webhook_port = 0;
  options->webhook_cert_dir = (dir_ / "webhook-certs").string();
  options->poll_timeout = 1s;
  op_ = std::make_unique<manager::Operator>(*operator_client_, clock_, *options);
  auto started = op_->start();
  ASSERT_TRUE(started) << started.error().toString();
  fake_->setServiceEndpoint("kprof-system", "kprof-webhook",
                            "127.0.0.1:" + std::to_string(op_->webhookPort()));
  ASSERT_TRUE(eventually([&] { return op_->ready(); }));
  // It leads, and has put its CA into the chart's webhook configuration.
  ASSERT_TRUE(eventually([&] {
    auto lease = fake_->getObject(resources::kLeases, "kprof-system", "kprof-operator");
    return lease && lease->value("/spec/holderIdentity"_json_pointer, std::string()) ==
                        options->identity;
  }));
  ASSERT_TRUE(eventually([&] {
    auto webhook = fake_->getObject(resources::kMutatingWebhookConfigurations, "", "kprof");
    return webhook && !webhook->value("/webhooks/0/clientConfig/caBundle"_json_pointer,
                                      std::string()).empty();
  }));

  // A pod that was running before kprof; a team's policy with a credential Secret, which labels
  // it; an opted-in pod created through the API, which the webhook injects.
  ASSERT_TRUE(fake_->createNamespace("shop"));
  ASSERT_TRUE(admin_->create(resources::kPods, "shop", checkoutPod("checkout-0", json::object())));
  ASSERT_TRUE(admin_->create(resources::kSecrets, "shop",
                             {{"apiVersion", "v1"},
                              {"kind", "Secret"},
                              {"metadata", {{"name", "pyroscope"}, {"namespace", "shop"}}},
                              {"data", {{"token", base64Encode("glc_abc")}}}}));
  ASSERT_TRUE(admin_->create(resources::kProfilingPolicies, "shop", checkoutPolicy()));
  // The operator has seen the policy (its first status) before the pod comes.
  ASSERT_TRUE(eventually([&] {
    auto policy = fake_->getObject(resources::kProfilingPolicies, "shop", "checkout");
    return policy && policy->value("/status/observedGeneration"_json_pointer, 0) == 1;
  }));
  auto created = admin_->create(resources::kPods, "shop",
                               checkoutPod("checkout-1", {{"kprof.dev/inject", "true"}}));
  ASSERT_TRUE(created) << created.error().toString();
  EXPECT_TRUE(created->contains("/metadata/annotations/kprof.dev~1injected"_json_pointer))
      << "the webhook did not inject: " << created->dump();
  EXPECT_TRUE(eventually([&] {
    auto policy = fake_->getObject(resources::kProfilingPolicies, "shop", "checkout");
    return policy && policy->value("/status/matchedPods"_json_pointer, 0) == 2;
  }));
  for (const std::string name : {"checkout-0", "checkout-1"}) {
    EXPECT_TRUE(eventually([&] {
      auto pod = fake_->getObject(resources::kPods, "shop", name);
      return pod && pod->value("/metadata/labels/kprof.dev~1policy"_json_pointer,
                               std::string()) == "checkout";
    })) << name << " is not labeled";
  }

  // Its agent polls with a pod-bound token (a TokenReview) and gets the policy's config.
  testing::UserInfo agent;
  agent.username = "system:serviceaccount:shop:default";
  agent.extra["authentication.kubernetes.io/pod-name"] = {"checkout-1"};
  agent.extra["authentication.kubernetes.io/pod-uid"] = {
      created->value("/metadata/uid"_json_pointer, std::string())};
  fake_->addToken("agent-token", agent);
  auto config = call("GET", "/v1/agents/config", "agent-token", "", {{"version", "0"}});
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->status, 200) << config->body;

  // Alertmanager posts with the chart's generated token; the pod captures; the agent reports.
  const json secret = findObject(objects_, "Secret", "kprof-alert-token");
  auto alert_token = base64Decode(secret.value("/data/token"_json_pointer, std::string()));
  ASSERT_TRUE(alert_token);
  auto queued = call("POST", "/alerts", *alert_token, alertPayload());
  ASSERT_TRUE(queued) << queued.error().toString();
  EXPECT_EQ(queued->status, 200) << queued->body;
  std::string snapshot_id;
  ASSERT_TRUE(eventually([&] {
    const auto ids = commandIds();
    snapshot_id = ids.empty() ? "" : ids.front();
    return !snapshot_id.empty();
  })) << "no snapshot command reached the agent";
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  auto reported = call("POST", "/v1/agents/report", "agent-token",
                       json{{"snapshots",
                             {{{"id", snapshot_id},
                               {"phase", "Completed"},
                               {"startedAtMs", now_ms - 5000},
                               {"completedAtMs", now_ms},
                               {"profiles", {{{"type", "cpu"}, {"samples", 500}, {"bytes", 900}}}}}}}}
                           .dump());
  ASSERT_TRUE(reported) << reported.error().toString();
  EXPECT_LT(reported->status, 300) << reported->body;
  EXPECT_TRUE(eventually([&] {
    auto snapshots = fake_->listObjects(resources::kProfileSnapshots, "shop");
    return snapshots && snapshots->size() == 1 &&
           snapshots->front().value("/status/phase"_json_pointer, std::string()) == "Completed";
  }));
  EXPECT_TRUE(eventually([&] {
    auto events = fake_->listObjects(resources::kEvents, "shop");
    return events && !events->empty();
  })) << "the operator recorded no Event";

  const std::vector<std::string> denied = fake_->deniedRequests();
  std::string listing;
  for (const std::string& reason : denied) listing += "\n  " + reason;
  EXPECT_TRUE(denied.empty()) << "the chart's RBAC refused the operator:" << listing;

  // The check has teeth: what the chart does not grant is refused to the same account.
  auto removal = operator_client_->remove(resources::kPods, "shop", "checkout-1");
  ASSERT_FALSE(removal);
  EXPECT_NE(removal.error().message.find("cannot delete resource \"pods\""), std::string::npos)
      << removal.error().message;
}

}  // namespace
}  // namespace kprof
