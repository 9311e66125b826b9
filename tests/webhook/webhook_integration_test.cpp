// The webhook end to end against the fake API server over HTTP: the chart's
// MutatingWebhookConfiguration (clientConfig.service, caBundle filled in by the operator), pods
// created through the API come out injected and labeled, the webhook's absence never blocks a
// pod, and a renewed serving certificate is served without a restart.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/core/base64.hpp"
#include "common/http/client.hpp"
#include "common/http/certificates.hpp"
#include "operator/kube/kube_client.hpp"
#include "operator/manager/operator.hpp"
#include "tests/chart/helm_chart.hpp"
#include "tests/fake_apiserver/fake_apiserver.hpp"
#include "tests/fake_apiserver/yaml_documents.hpp"

namespace kprof {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using nlohmann::json;
namespace resources = kube::resources;
namespace fs = std::filesystem;

bool eventually(const std::function<bool()>& done, milliseconds timeout = seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return done();
}

// The chart's webhook manifest as `helm template` renders it for release "kprof" in namespace
// kprof-system: its only template expressions are the release name and namespace and the
// enabled guard.
// The chart's MutatingWebhookConfiguration as helm renders it for the release namespace.
json chartWebhookConfiguration() {
  auto objects = testing::renderChart();
  EXPECT_TRUE(objects) << objects.error().message;
  return objects ? testing::findObject(*objects, "MutatingWebhookConfiguration", "kprof") : json();
}

json pod(const std::string& ns, const std::string& name, json annotations = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", {{"app", "checkout"}}}, {"annotations", annotations}}},
          {"spec", {{"containers", {{{"name", "app"}, {"image", "registry.local/checkout:3.2"}}}}}}};
}

// The serial number of the certificate a TLS server presents for `server_name`.
std::string presentedSerial(uint16_t port, const std::string& server_name) {
  const std::string command = "openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                              " -servername " + server_name +
                              " </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null";
  std::string output;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
    pclose(pipe);
  }
  const auto at = output.find('=');
  return at == std::string::npos ? "" : output.substr(at + 1, output.find('\n') - at - 1);
}

class WebhookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::FakeApiServerOptions options;
    options.crd_files = testing::kprofCrdFiles(KPROF_SOURCE_DIR);
    auto fake = testing::FakeApiServer::make(std::move(options));
    ASSERT_TRUE(fake) << fake.error().toString();
    fake_ = std::move(*fake);
    ASSERT_TRUE(fake_->start());
    ASSERT_TRUE(fake_->createNamespace("kprof-system"));
    ASSERT_TRUE(fake_->createNamespace("quiet"));
    ASSERT_TRUE(fake_->createObject(
        resources::kNamespaces,
        {{"apiVersion", "v1"},
         {"kind", "Namespace"},
         {"metadata", {{"name", "shop"}, {"labels", {{"kprof.dev/injection", "enabled"}}}}}}));
    ASSERT_TRUE(fake_->createObject(
        resources::kProfilingPolicies,
        {{"apiVersion", "kprof.dev/v1alpha1"},
         {"kind", "ProfilingPolicy"},
         {"metadata", {{"name", "checkout"}, {"namespace", "shop"}}},
         {"spec", {{"selector", {{"matchLabels", {{"app", "checkout"}}}}}, {"environment", "prod"}}}}));
    ASSERT_TRUE(fake_->createObject(resources::kMutatingWebhookConfigurations,
                                    chartWebhookConfiguration()));
    kube::ClusterConfig config;
    config.server = fake_->url();
    auto client = kube::KubeClient::create(config);
    ASSERT_TRUE(client);
    client_ = std::move(*client);
    cert_dir_ = fs::temp_directory_path() / ("kprof-webhook-test-" + std::to_string(::getpid()));
  }

  void TearDown() override {
    if (operator_) operator_->stop();
    std::error_code ignored;
    fs::remove_all(cert_dir_, ignored);
  }

  void startOperator() {
    manager::OperatorOptions options;
    options.identity = "op-a";
    options.leader_elect = false;
    options.listen_host = "127.0.0.1";
    options.health_port = 0;
    options.agent_api_port = 0;
    options.webhook_enabled = true;
    options.webhook_port = 0;
    options.webhook_cert_dir = cert_dir_.string();
    options.webhook_cert_check_interval = seconds(1);
    operator_ = std::make_unique<manager::Operator>(*client_, clock_, options);
    auto started = operator_->start();
    ASSERT_TRUE(started) << started.error().toString();
    fake_->setServiceEndpoint("kprof-system", "kprof-webhook",
                              "127.0.0.1:" + std::to_string(operator_->webhookPort()));
    ASSERT_TRUE(eventually([&] { return operator_->ready(); }));
  }

  json created(const std::string& ns, const std::string& name, json annotations = json::object()) {
    auto object = client_->create(resources::kPods, ns, pod(ns, name, std::move(annotations)));
    EXPECT_TRUE(object) << object.error().toString();
    return object ? *object : json();
  }

  std::string metrics() {
    auto client = http::Client::create(
        {.base_url = "http://127.0.0.1:" + std::to_string(operator_->healthPort())});
    auto response = (*client)->send(http::Request{.path = "/metrics"}, seconds(5));
    return response ? response->body : "";
  }

  SystemClock clock_;
  std::unique_ptr<testing::FakeApiServer> fake_;
  std::unique_ptr<kube::KubeClient> client_;
  std::unique_ptr<manager::Operator> operator_;
  fs::path cert_dir_;
};

TEST(WebhookManifest, NeverBlocksAPodAndSkipsTheNamespacesKprofMustNotTouch) {
  const json configuration = chartWebhookConfiguration();
  ASSERT_EQ(configuration.value("kind", ""), "MutatingWebhookConfiguration");
  ASSERT_EQ(configuration["webhooks"].size(), 1u);
  const json& webhook = configuration["webhooks"][0];
  EXPECT_EQ(webhook["failurePolicy"], "Ignore");
  EXPECT_LE(webhook["timeoutSeconds"].get<int>(), 5);
  EXPECT_EQ(webhook["sideEffects"], "None");
  EXPECT_EQ(webhook["reinvocationPolicy"], "IfNeeded");
  EXPECT_EQ(webhook["admissionReviewVersions"], json::array({"v1"}));
  EXPECT_EQ(webhook["clientConfig"]["service"]["path"], "/mutate-pods");
  EXPECT_EQ(webhook["rules"][0]["operations"], json::array({"CREATE"}));
  EXPECT_EQ(webhook["rules"][0]["resources"], json::array({"pods"}));
  const json& excluded = webhook["namespaceSelector"]["matchExpressions"][0];
  EXPECT_EQ(excluded["key"], "kubernetes.io/metadata.name");
  EXPECT_EQ(excluded["operator"], "NotIn");
  EXPECT_EQ(excluded["values"], json::array({"kube-system", "kprof-system"}));
}

bool hasContainer(const json& list, const std::string& name) {
  return list.is_array() && std::any_of(list.begin(), list.end(),
                                        [&](const json& c) { return c.value("name", "") == name; });
}

TEST_F(WebhookTest, APodCreatedThroughTheApiComesOutInjectedAndLabeled) {
  startOperator();
  // The operator keeps its CA in a Secret and put it into the chart's webhook configuration.
  auto secret = fake_->getObject(resources::kSecrets, "kprof-system", "kprof-webhook-tls");
  ASSERT_TRUE(secret) << "no TLS Secret";
  const std::string ca = *base64Decode((*secret)["data"]["ca.crt"].get<std::string>());
  auto configuration = fake_->getObject(resources::kMutatingWebhookConfigurations, "", "kprof");
  ASSERT_TRUE(configuration);
  EXPECT_EQ(*base64Decode((*configuration)["webhooks"][0]["clientConfig"]["caBundle"].get<std::string>()), ca);
  const std::string leaf = *base64Decode((*secret)["data"]["tls.crt"].get<std::string>());
  EXPECT_TRUE(http::verifyCertificate(leaf, ca, std::chrono::system_clock::now(),
                                      "kprof-webhook.kprof-system.svc"));

  const json checkout = created("shop", "checkout-1");
  EXPECT_TRUE(hasContainer(checkout["spec"]["initContainers"], "kprof-agent")) << checkout.dump(2);
  EXPECT_TRUE(hasContainer(checkout["spec"]["initContainers"], "kprof-preload"));
  EXPECT_EQ(checkout["metadata"]["labels"].value("kprof.dev/policy", ""), "checkout");
  EXPECT_EQ(checkout["metadata"]["labels"].value("kprof.dev/env", ""), "prod");
  EXPECT_EQ(checkout["metadata"]["labels"].value("kprof.dev/version", ""), "3.2");
  EXPECT_EQ(checkout["metadata"]["annotations"].value("kprof.dev/injected", ""), "preload");
  // Stored as returned: a read gives the same injected pod.
  auto stored = fake_->getObject(resources::kPods, "shop", "checkout-1");
  ASSERT_TRUE(stored);
  EXPECT_TRUE(hasContainer((*stored)["spec"]["initContainers"], "kprof-agent"));

  // A namespace without the label and a pod without the annotation: untouched.
  const json plain = created("quiet", "plain-1");
  EXPECT_FALSE(plain["spec"].contains("initContainers"));
  EXPECT_FALSE(plain["metadata"]["annotations"].contains("kprof.dev/injected"));
  // The same namespace, the pod opting in by annotation.
  const json opted = created("quiet", "opted-1", {{"kprof.dev/inject", "true"}});
  EXPECT_TRUE(hasContainer(opted["spec"]["initContainers"], "kprof-agent"));

  const std::string scraped = metrics();
  EXPECT_NE(scraped.find("kprof_webhook_admissions_total{outcome=\"injected\",result=\"mutated\"} 2"),
            std::string::npos)
      << scraped;
  EXPECT_NE(scraped.find("kprof_webhook_admissions_total{outcome=\"not_selected\",result=\"unchanged\"} 1"),
            std::string::npos);
}

TEST_F(WebhookTest, ADownWebhookNeverBlocksAPod) {
  startOperator();
  operator_->stop();
  const json checkout = created("shop", "checkout-2");
  EXPECT_EQ(checkout["metadata"].value("name", ""), "checkout-2");
  EXPECT_FALSE(checkout["spec"].contains("initContainers"));
}

TEST_F(WebhookTest, ARenewedServingCertificateIsServedWithoutARestart) {
  startOperator();
  const uint16_t port = operator_->webhookPort();
  const std::string before = presentedSerial(port, "kprof-webhook.kprof-system.svc");
  ASSERT_FALSE(before.empty()) << "could not read the served certificate";

  // Break the serving certificate in the Secret: the next check issues a new one from the same CA.
  auto secret = fake_->getObject(resources::kSecrets, "kprof-system", "kprof-webhook-tls");
  ASSERT_TRUE(secret);
  const std::string ca_before = (*secret)["data"]["ca.crt"];
  (*secret)["data"]["tls.crt"] = base64Encode("not a certificate");
  ASSERT_TRUE(fake_->updateObject(resources::kSecrets, *secret));

  // The store re-reads the files at most every 10 s.
  ASSERT_TRUE(eventually([&] {
    const std::string now = presentedSerial(port, "kprof-webhook.kprof-system.svc");
    return !now.empty() && now != before;
  }, seconds(30)));
  auto renewed = fake_->getObject(resources::kSecrets, "kprof-system", "kprof-webhook-tls");
  ASSERT_TRUE(renewed);
  EXPECT_EQ((*renewed)["data"]["ca.crt"], ca_before);  // same CA: nothing to re-trust
  // Pods are still injected through the renewed certificate.
  EXPECT_TRUE(hasContainer(created("shop", "checkout-3")["spec"]["initContainers"], "kprof-agent"));
}

}  // namespace
}  // namespace kprof
