#include "controllers/policy/agent_config.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "controllers/policy/test_fixtures.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;
using testing::makePod;
using testing::makePolicy;

TEST(ProfileLabels, ComputedThenOverriddenByThePolicy) {
  const auto plain = makePolicy("p", R"({"selector": {}})");
  const auto labeled = makePolicy(
      "p",
      R"({"selector": {}, "environment": "prod", "labels": {"team": "a", "service_name": "svc"}})");
  PodInfo unscheduled = makePod("api-1");
  unscheduled.node_name.clear();
  struct Case {
    const char* name = nullptr;
    const ProfilingPolicy* policy = nullptr;
    PodInfo pod;
    Labels labels;
  };
  const std::vector<Case> cases = {
      {"service from app.kubernetes.io/name",
       &plain,
       makePod("api-1", {{"app.kubernetes.io/name", "api"}, {"app", "other"}}),
       {{"service_name", "api"},
        {"namespace", "shop"},
        {"pod", "api-1"},
        {"node", "node-a"},
        {"version", "1.0"}}},
      {"service from app",
       &plain,
       makePod("api-1", {{"app", "api"}}),
       {{"service_name", "api"},
        {"namespace", "shop"},
        {"pod", "api-1"},
        {"node", "node-a"},
        {"version", "1.0"}}},
      {"service from namespace/container, no node before scheduling",
       &plain,
       unscheduled,
       {{"service_name", "shop/app"}, {"namespace", "shop"}, {"pod", "api-1"}, {"version", "1.0"}}},
      {"policy labels override",
       &labeled,
       makePod("api-1", {{"app", "api"}}),
       {{"service_name", "svc"},
        {"namespace", "shop"},
        {"pod", "api-1"},
        {"node", "node-a"},
        {"env", "prod"},
        {"version", "1.0"},
        {"team", "a"}}},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(profileLabels(*c.policy, c.pod), c.labels) << c.name;
  }
}

TEST(AgentConfig, CarriesThePolicyResolvedForThePod) {
  auto policy = makePolicy("payments", R"({
    "selector": {}, "environment": "prod", "mode": "preload",
    "profiles": {"cpu": {"rateHz": 97}, "alloc": {}, "wall": {"enabled": true}},
    "uploadIntervalSeconds": 15,
    "targets": [{"pyroscope": {"url": "https://p.example", "tenantID": "t1",
                               "authSecretRef": {"name": "creds", "key": "token"}}},
                {"file": {"directory": "/out"}}],
    "overheadBudget": {"cpuPercent": 2.5}
  })");
  policy.metadata.generation = 3;
  EXPECT_EQ(toJson(buildAgentConfig(policy, makePod("pay-1", {{"app", "pay"}}))), json::parse(R"({
    "pod": {"namespace": "shop", "name": "pay-1", "uid": "pay-1"},
    "policy": {"name": "payments", "generation": 3},
    "mode": "preload",
    "profiles": {"cpu": {"enabled": true, "rateHz": 97}, "alloc": {"meanSampleBytes": 524288},
                 "wall": {"enabled": true}},
    "labels": {"service_name": "pay", "namespace": "shop", "pod": "pay-1", "node": "node-a",
               "env": "prod", "version": "1.0"},
    "targets": [
      {"pyroscope": {"url": "https://p.example", "tenantID": "t1",
                     "authSecretRef": {"name": "creds", "key": "token", "type": "bearer"}}},
      {"file": {"directory": "/out"}}
    ],
    "uploadIntervalSeconds": 15,
    "overheadBudget": {"cpuPercent": 2.5}
  })"));
}

TEST(AgentConfig, NoTargetsMeansTheEmbeddedStore) {
  const auto policy =
      makePolicy("p", R"({"selector": {}, "mode": "ebpf", "profiles": {"lock": null}})");
  const AgentConfig config = buildAgentConfig(policy, makePod("a"));
  EXPECT_EQ(config.targets, std::vector<ProfileTarget>{StoreTarget{}});
  EXPECT_EQ(toJson(config)["targets"], json::parse(R"([{"store": {}}])"));
  EXPECT_EQ(toJson(config)["mode"], "ebpf");
}

}  // namespace
}  // namespace kprof::controllers
