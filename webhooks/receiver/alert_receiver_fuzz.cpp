// libFuzzer over POST /alerts bodies: whatever arrives, the receiver answers 400 exactly when
// the payload does not read, never crashes, and routing what it accepted yields snapshots the
// ProfileSnapshot CRD accepts: valid names, only the policy's pods, bounded labels.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include <prometheus/registry.h>

#include "webhooks/alerts/alert_routing.hpp"
#include "webhooks/receiver/alert_receiver.hpp"

namespace {

using namespace kprof;
using namespace kprof::webhooks;

void check(bool condition) {
  if (!condition) std::abort();
}

class FixedToken final : public AlertToken {
 public:
  Result<std::string> current() override { return std::string("fuzz-token"); }
};

std::vector<RoutablePolicy> policies() {
  controllers::SnapshotTrigger any;
  any.name = "any";
  any.matchers = {{"alertname", controllers::MatchOp::Regex, ".+"}};
  any.cooldown_seconds = 0;
  any.max_concurrent = 100;
  any.stop_on_resolve = true;
  controllers::SnapshotTrigger latency = any;
  latency.name = "latency";
  latency.matchers = {{"severity", controllers::MatchOp::NotRegex, "info|none"},
                      {"alertname", controllers::MatchOp::Equal, "HighLatency"}};
  return {{"shop", "checkout", "uid-1", {any, latency},
           {{"checkout-1", "checkout", {"app"}}, {"checkout-2", "checkout", {"app", "sidecar"}},
            {"worker-1", "worker", {"worker"}}}}};
}

bool dnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static FixedToken token;
  static SystemClock clock;
  static prometheus::Registry registry;
  // Capacity 0: accepted payloads are answered 503 instead of queued, which keeps runs
  // independent; routing is checked below, synchronously.
  static AlertReceiver receiver(token, [](const ReceivedAlerts&) { std::abort(); }, clock,
                                registry, {.queue_capacity = 0});
  http::Request request;
  request.method = "POST";
  request.path = "/alerts";
  request.headers.set("Authorization", "Bearer fuzz-token");
  request.body.assign(reinterpret_cast<const char*>(data), size);
  const http::Response response = receiver.handle(request);

  auto payload = readAlertPayload(request.body);
  check(response.status == (payload ? 503 : 400));
  if (!payload) return 0;

  static const std::vector<RoutablePolicy> kPolicies = policies();
  std::set<std::string> policy_pods;
  for (const auto& pod : kPolicies[0].pods) policy_pods.insert(pod.name);
  const WallTime now{std::chrono::seconds(1'800'000'000)};
  const AlertRouting routing = routeAlerts(payload->alerts, kPolicies, {}, now);
  std::set<std::string> names;
  for (const controllers::NewSnapshot& snapshot : routing.create) {
    check(dnsName(snapshot.name) && names.insert(snapshot.name).second);
    check(!snapshot.spec.pods.empty() && snapshot.spec.pods.size() <= 256);
    for (const std::string& pod : snapshot.spec.pods) check(policy_pods.contains(pod));
    check(snapshot.spec.alert.has_value() && snapshot.spec.alert->labels.size() <= 64);
    for (const auto& [key, value] : snapshot.spec.alert->labels) check(value.size() <= 1024);
    // Routing the same alerts again with the snapshots known starts nothing new.
    std::vector<KnownSnapshot> known;
    for (const auto& created : routing.create) {
      known.push_back({created.namespace_name, created.name, created.spec.policy,
                       created.spec.trigger, now, false, false, {}});
    }
    check(routeAlerts(payload->alerts, kPolicies, known, now).create.empty());
  }
  return 0;
}
