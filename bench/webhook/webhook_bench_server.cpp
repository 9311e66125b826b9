// The admission webhook alone: POST /mutate-pods over TLS with a certificate made at start
// (written to DIR/webhook.crt and .key), a namespace with injection enabled (and Pod Security
// level privileged) and one policy selecting app=checkout. Prints "port <n>" and serves until
// stdin closes. Used by bench/webhook/run.sh and tests/podman.
//   kprof-webhook-bench-server DIR [AGENT_IMAGE CLUSTER_MINOR]
#include <chrono>
#include <fstream>
#include <iostream>
#include <string>

#include "common/core/clock.hpp"
#include "common/http/certificate_store.hpp"
#include "common/http/certificates.hpp"
#include "common/http/server.hpp"
#include "webhooks/server/pod_webhook.hpp"

namespace {

using nlohmann::json;

class BenchLookup : public kprof::webhooks::AdmissionLookup {
 public:
  BenchLookup() {
    auto policy = kprof::controllers::readProfilingPolicy(json{
        {"apiVersion", "kprof.dev/v1alpha1"},
        {"kind", "ProfilingPolicy"},
        {"metadata", {{"name", "shop"}, {"namespace", "shop"}, {"uid", "p1"}, {"generation", 1}}},
        {"spec", {{"selector", {{"matchLabels", {{"app", "checkout"}}}}}, {"environment", "prod"}}}});
    if (policy) policies_.push_back(*policy);
  }
  kprof::webhooks::NamespaceInfo namespaceInfo(const std::string& name) override {
    return {name,
            {{"kprof.dev/injection", "enabled"}, {"pod-security.kubernetes.io/enforce", "privileged"}}};
  }
  std::vector<kprof::controllers::ProfilingPolicy> policies(const std::string&) override {
    return policies_;
  }

 private:
  std::vector<kprof::controllers::ProfilingPolicy> policies_;
};

}  // namespace

int main(int argc, char** argv) {
  const std::string directory = argc > 1 ? argv[1] : "/tmp";
  const auto now = std::chrono::system_clock::now();
  auto ca = kprof::http::createCertificateAuthority(
      {.common_name = "bench-ca", .not_before = now - std::chrono::hours(1), .not_after = now + std::chrono::hours(24)});
  auto leaf = kprof::http::issueCertificate(
      *ca, {.common_name = "127.0.0.1", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"},
            .not_before = now - std::chrono::hours(1), .not_after = now + std::chrono::hours(24)});
  if (!ca || !leaf) {
    std::cerr << "cannot create certificates\n";
    return 1;
  }
  const std::string cert_file = directory + "/webhook.crt";
  const std::string key_file = directory + "/webhook.key";
  std::ofstream(cert_file) << leaf->certificate_pem;
  std::ofstream(key_file) << leaf->private_key_pem;
  std::ofstream(directory + "/ca.crt") << ca->certificate_pem;  // for clients that verify

  kprof::SystemClock clock;
  auto store = kprof::http::CertificateStore::open({cert_file, key_file}, std::chrono::seconds(10), clock);
  if (!store) {
    std::cerr << store.error().toString() << "\n";
    return 1;
  }
  prometheus::Registry registry;
  BenchLookup lookup;
  kprof::http::Server server({.host = "127.0.0.1", .port = 0, .certificates = *store,
                              .max_body_bytes = kprof::webhooks::kMaxAdmissionReviewBytes});
  kprof::webhooks::InjectionConfig injection;
  if (argc > 3) {
    injection.agent_image = argv[2];
    injection.image_pull_policy = "Never";  // a local image
    injection.cluster_minor = std::stoi(argv[3]);
  }
  kprof::webhooks::registerPodWebhook(server, lookup, injection, registry);
  if (auto started = server.start(); !started) {
    std::cerr << started.error().toString() << "\n";
    return 1;
  }
  std::cout << "port " << server.port() << std::endl;
  std::string line;
  while (std::getline(std::cin, line)) {
  }
  server.stop(std::chrono::seconds(1));
  return 0;
}
