#include "webhooks/alerts/alert_routing.hpp"

#include <gtest/gtest.h>

namespace kprof::webhooks {
namespace {

using std::chrono::seconds;

const WallTime kNow{seconds(1'800'000'000)};

Alert firing(std::map<std::string, std::string> labels, std::string fingerprint = "a1b2c3d4e5f60718") {
  Alert alert;
  alert.status = "firing";
  alert.labels = std::move(labels);
  alert.starts_at = "2027-01-15T07:59:50Z";
  alert.fingerprint = std::move(fingerprint);
  return alert;
}

controllers::SnapshotTrigger latencyTrigger() {
  controllers::SnapshotTrigger trigger;
  trigger.name = "latency";
  trigger.matchers = {{"alertname", controllers::MatchOp::Equal, "HighLatency"},
                      {"severity", controllers::MatchOp::Regex, "page|critical"}};
  trigger.duration_seconds = 20;
  trigger.rate_hz = 499;
  trigger.cooldown_seconds = 300;
  return trigger;
}

RoutablePolicy checkoutPolicy() {
  return {"shop", "checkout", "uid-checkout", {latencyTrigger()},
          {{"checkout-1", "checkout", {"app", "kprof-agent"}},
           {"checkout-2", "checkout", {"app", "kprof-agent"}},
           {"worker-1", "worker", {"worker", "kprof-agent"}}}};
}

std::map<std::string, std::string> highLatency(std::map<std::string, std::string> extra = {}) {
  extra["alertname"] = "HighLatency";
  extra["severity"] = "page";
  return extra;
}

TEST(RouteAlerts, AMatchingAlertSnapshotsEveryPodOfThePolicy) {
  const AlertRouting routing = routeAlerts({firing(highLatency())}, {checkoutPolicy()}, {}, kNow);
  ASSERT_EQ(routing.create.size(), 1u);
  const controllers::NewSnapshot& s = routing.create[0];
  EXPECT_EQ(s.namespace_name, "shop");
  EXPECT_EQ(s.name.rfind("checkout-latency-", 0), 0u);
  EXPECT_EQ(s.name.size(), std::string("checkout-latency-").size() + 10);
  EXPECT_EQ(s.policy_uid, "uid-checkout");
  EXPECT_EQ(s.spec.pods, (std::vector<std::string>{"checkout-1", "checkout-2", "worker-1"}));
  EXPECT_EQ(s.spec.duration_seconds, 20);
  EXPECT_EQ(s.spec.rate_hz, 499);
  ASSERT_TRUE(s.spec.alert);
  EXPECT_EQ(s.spec.alert->name, "HighLatency");
  EXPECT_EQ(s.spec.alert->fingerprint, "a1b2c3d4e5f60718");
  EXPECT_EQ(s.annotations.at("kprof.dev/alert-received-at"), "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(s.annotations.at("kprof.dev/alert-fingerprints"), "a1b2c3d4e5f60718");
}

TEST(RouteAlerts, AlertsThatDoNotMatchEveryMatcherStartNothing) {
  for (const auto& labels : std::vector<std::map<std::string, std::string>>{
           {{"alertname", "HighLatency"}},                          // severity missing
           {{"alertname", "HighLatency"}, {"severity", "pager"}},   // regex is anchored
           {{"alertname", "DiskFull"}, {"severity", "page"}}}) {
    EXPECT_TRUE(routeAlerts({firing(labels)}, {checkoutPolicy()}, {}, kNow).create.empty());
  }
  Alert resolved = firing(highLatency());
  resolved.status = "resolved";
  EXPECT_TRUE(routeAlerts({resolved}, {checkoutPolicy()}, {}, kNow).create.empty());
}

TEST(RouteAlerts, TheAlertsLabelsNarrowThePods) {
  auto podsFor = [](std::map<std::string, std::string> extra) {
    auto routing = routeAlerts({firing(highLatency(std::move(extra)))}, {checkoutPolicy()}, {}, kNow);
    return routing.create.empty() ? std::vector<std::string>{} : routing.create[0].spec.pods;
  };
  using Pods = std::vector<std::string>;
  EXPECT_EQ(podsFor({{"pod", "checkout-2"}}), Pods{"checkout-2"});
  EXPECT_EQ(podsFor({{"deployment", "worker"}}), Pods{"worker-1"});
  EXPECT_EQ(podsFor({{"container", "app"}}), (Pods{"checkout-1", "checkout-2"}));
  EXPECT_EQ(podsFor({{"namespace", "shop"}, {"pod", "checkout-1"}}), Pods{"checkout-1"});
  EXPECT_EQ(podsFor({{"namespace", "billing"}}), Pods{});
  EXPECT_EQ(podsFor({{"pod", "checkout-9"}}), Pods{});
  const AlertRouting none =
      routeAlerts({firing(highLatency({{"pod", "checkout-9"}}))}, {checkoutPolicy()}, {}, kNow);
  ASSERT_EQ(none.notes.size(), 1u);
  EXPECT_NE(none.notes[0].find("names no pod"), std::string::npos);
}

TEST(RouteAlerts, ARepeatedNotificationNamesTheSameSnapshotAndStartsNoSecond) {
  const std::vector<Alert> alerts{firing(highLatency({{"pod", "checkout-1"}}), "aaaa"),
                                  firing(highLatency({{"pod", "checkout-2"}}), "bbbb")};
  const AlertRouting first = routeAlerts(alerts, {checkoutPolicy()}, {}, kNow);
  ASSERT_EQ(first.create.size(), 1u);  // one snapshot for the group's two alerts
  EXPECT_EQ(first.create[0].spec.pods, (std::vector<std::string>{"checkout-1", "checkout-2"}));
  const std::vector<Alert> reordered{alerts[1], alerts[0]};
  EXPECT_EQ(routeAlerts(reordered, {checkoutPolicy()}, {}, kNow + seconds(5)).create[0].name,
            first.create[0].name);

  KnownSnapshot existing{"shop", first.create[0].name, "checkout", "latency", kNow, false, false,
                         {"aaaa", "bbbb"}};
  const AlertRouting again = routeAlerts(alerts, {checkoutPolicy()}, {existing}, kNow + seconds(4 * 3600));
  EXPECT_TRUE(again.create.empty());  // repeat_interval re-send, even after the cooldown
  ASSERT_EQ(again.notes.size(), 1u);
  EXPECT_NE(again.notes[0].find("already captured"), std::string::npos);

  Alert refired = alerts[0];
  refired.starts_at = "2027-01-15T09:00:00Z";  // the same alert firing anew is a new identity
  EXPECT_NE(routeAlerts({refired}, {checkoutPolicy()}, {}, kNow).create[0].name, first.create[0].name);
}

TEST(RouteAlerts, CooldownAndMaxConcurrentHoldBackNewSnapshots) {
  const KnownSnapshot recent{"shop", "checkout-latency-0000000000", "checkout", "latency",
                             kNow - seconds(60), true, false, {}};
  const AlertRouting cooling = routeAlerts({firing(highLatency())}, {checkoutPolicy()}, {recent}, kNow);
  EXPECT_TRUE(cooling.create.empty());
  ASSERT_EQ(cooling.notes.size(), 1u);
  EXPECT_NE(cooling.notes[0].find("cooldown, 240s left"), std::string::npos) << cooling.notes[0];
  EXPECT_EQ(routeAlerts({firing(highLatency())}, {checkoutPolicy()}, {recent}, kNow + seconds(240))
                .create.size(),
            1u);

  RoutablePolicy policy = checkoutPolicy();
  policy.triggers[0].cooldown_seconds = 0;
  policy.triggers[0].max_concurrent = 2;
  KnownSnapshot running = recent;
  running.terminal = false;
  KnownSnapshot running2 = running;
  running2.name = "checkout-latency-1111111111";
  EXPECT_EQ(routeAlerts({firing(highLatency())}, {policy}, {running}, kNow).create.size(), 1u);
  EXPECT_TRUE(routeAlerts({firing(highLatency())}, {policy}, {running, running2}, kNow).create.empty());
  // Another policy's or trigger's snapshots do not count.
  running.trigger = "errors";
  running2.policy = "cart";
  EXPECT_EQ(routeAlerts({firing(highLatency())}, {policy}, {running, running2}, kNow).create.size(), 1u);
}

TEST(RouteAlerts, AResolvedAlertStopsItsRunningSnapshotWhenTheTriggerAsks) {
  RoutablePolicy policy = checkoutPolicy();
  policy.triggers[0].stop_on_resolve = true;
  const KnownSnapshot running{"shop", "checkout-latency-0123456789", "checkout", "latency",
                              kNow - seconds(5), false, false, {"aaaa", "bbbb"}};
  Alert resolved = firing(highLatency(), "aaaa");
  resolved.status = "resolved";
  const AlertRouting routing = routeAlerts({resolved}, {policy}, {running}, kNow);
  EXPECT_EQ(routing.stop, (std::vector<SnapshotToStop>{{"shop", "checkout-latency-0123456789"}}));
  // Not while another of its alerts still fires, nor without stopOnResolve, nor twice.
  EXPECT_TRUE(routeAlerts({resolved, firing(highLatency(), "bbbb")}, {policy}, {running}, kNow).stop.empty());
  EXPECT_TRUE(routeAlerts({resolved}, {checkoutPolicy()}, {running}, kNow).stop.empty());
  KnownSnapshot stopping = running;
  stopping.stop_requested = true;
  EXPECT_TRUE(routeAlerts({resolved}, {policy}, {stopping}, kNow).stop.empty());
}

TEST(RouteAlerts, HostileLabelsAreBoundedToWhatTheResourceAccepts) {
  std::map<std::string, std::string> labels = highLatency();
  for (int i = 0; i < 200; ++i) labels["l" + std::to_string(i)] = std::string(5000, 'x');
  const AlertRouting routing =
      routeAlerts({firing(labels, "NOT-HEX")}, {checkoutPolicy()}, {}, kNow);
  ASSERT_EQ(routing.create.size(), 1u);
  const auto& alert = *routing.create[0].spec.alert;
  EXPECT_LE(alert.labels.size(), 64u);
  for (const auto& [key, value] : alert.labels) EXPECT_LE(value.size(), 1024u);
  EXPECT_TRUE(alert.fingerprint.empty());
  EXPECT_FALSE(routing.create[0].annotations.contains("kprof.dev/alert-fingerprints"));
}

TEST(RoutablePod, TheDeploymentComesFromTheReplicaSetOwner) {
  const auto pod = nlohmann::json::parse(R"({
    "metadata": {"name": "web-7d9f8c-x2x", "ownerReferences": [
      {"kind": "ReplicaSet", "name": "web-7d9f8c", "controller": true}]},
    "spec": {"containers": [{"name": "app"}, {"name": "kprof-agent"}]}})");
  EXPECT_EQ(routablePod(pod), (RoutablePod{"web-7d9f8c-x2x", "web", {"app", "kprof-agent"}}));
  EXPECT_EQ(routablePod(nlohmann::json("garbage")).name, "");
  // As the operator's pod cache keeps owners: kind and name only.
  const auto pruned = nlohmann::json::parse(R"({
    "metadata": {"name": "db-0", "ownerReferences": [{"kind": "StatefulSet", "name": "db"}]}})");
  EXPECT_EQ(routablePod(pruned).workload, "db");
}

}  // namespace
}  // namespace kprof::webhooks
