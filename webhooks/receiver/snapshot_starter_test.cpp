#include "webhooks/receiver/snapshot_starter.hpp"

#include <gtest/gtest.h>

#include "operator/fakekube/memory_api.hpp"

namespace kprof::webhooks {
namespace {

namespace resources = kube::resources;

// The snapshots come from the API, as the informer would show them.
class ApiInputs final : public RoutingInputs {
 public:
  explicit ApiInputs(kube::Api& api) : api_(api) {}
  std::vector<RoutablePolicy> policies() const override {
    controllers::SnapshotTrigger trigger;
    trigger.name = "latency";
    trigger.matchers = {{"alertname", controllers::MatchOp::Equal, "HighLatency"}};
    trigger.stop_on_resolve = true;
    return {{"shop", "checkout", "uid-1", {trigger},
             {{"checkout-1", "checkout", {"app"}}, {"checkout-2", "checkout", {"app"}}}}};
  }
  std::vector<KnownSnapshot> snapshots() const override {
    std::vector<KnownSnapshot> out;
    if (!visible) return out;
    const auto list = api_.list(resources::kProfileSnapshots, "", {});
    for (const auto& object : list->items) {
      if (auto snapshot = controllers::readProfileSnapshot(object)) out.push_back(knownSnapshot(*snapshot));
    }
    return out;
  }
  bool visible = true;  // false: the informer has not seen the creates yet

 private:
  kube::Api& api_;
};

ReceivedAlerts notification(const std::string& status, WallTime at) {
  Alert alert;
  alert.status = status;
  alert.labels = {{"alertname", "HighLatency"}, {"pod", "checkout-2"}};
  alert.starts_at = "2026-11-22T10:00:00Z";
  alert.fingerprint = "a1b2c3d4";
  ReceivedAlerts received;
  received.payload.alerts = {alert};
  received.received_at = at;
  return received;
}

TEST(SnapshotStarter, CreatesOneSnapshotPerAlertEvenWhenAlertmanagerResendsIt) {
  FakeClock clock;
  fakekube::MemoryApi api(clock);
  ApiInputs inputs(api);
  prometheus::Registry registry;
  SnapshotStarter starter(api, inputs, registry);
  inputs.visible = false;
  starter.handle(notification("firing", clock.wallNow()));
  starter.handle(notification("firing", clock.wallNow() + std::chrono::seconds(10)));
  inputs.visible = true;
  starter.handle(notification("firing", clock.wallNow() + std::chrono::hours(5)));
  const auto snapshots = api.list(resources::kProfileSnapshots, "shop", {})->items;
  ASSERT_EQ(snapshots.size(), 1u);
  const auto& snapshot = snapshots[0];
  EXPECT_EQ(snapshot["spec"]["targets"]["pods"], nlohmann::json({"checkout-2"}));
  EXPECT_EQ(snapshot["metadata"]["ownerReferences"][0]["name"], "checkout");
  EXPECT_EQ(snapshot["spec"]["alert"]["fingerprint"], "a1b2c3d4");

  starter.handle(notification("resolved", clock.wallNow() + std::chrono::seconds(20)));
  const auto stopped = api.get(resources::kProfileSnapshots, "shop",
                               snapshot["metadata"]["name"].get<std::string>());
  ASSERT_TRUE(stopped);
  EXPECT_EQ((*stopped)["metadata"]["annotations"].value("kprof.dev/stop-requested", ""), "alert resolved");
}

}  // namespace
}  // namespace kprof::webhooks
