#include "controllers/policy/plan_policy.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "controllers/policy/test_fixtures.hpp"

namespace kprof::controllers {
namespace {

using nlohmann::json;
using std::chrono::minutes;
using std::chrono::seconds;
using testing::kCreated;
using testing::makePod;
using testing::makePolicy;

// Pods are created at 12:00:00; the controller plans ten minutes later.
const WallTime kNow = kCreated + minutes{10};

ProfilingPolicy checkoutPolicy(int64_t generation = 2) {
  ProfilingPolicy policy = makePolicy(
      "checkout", R"({"selector": {"matchLabels": {"app": "checkout"}}, "environment": "prod"})");
  policy.metadata.generation = generation;
  return policy;
}

PodInfo injected(PodInfo pod, std::optional<WallTime> last_report = std::nullopt) {
  pod.injected = true;
  pod.annotations["kprof.dev/injected"] = "true";
  pod.last_agent_report = last_report;
  return pod;
}

PolicyPlan plan(const ProfilingPolicy& policy,
                const std::vector<PodInfo>& pods,
                const std::vector<ProfilingPolicy>& others = {},
                WallTime now = kNow) {
  return planPolicy(policy, pods, others, now);
}

TEST(PlanPolicy, FirstReconcileLabelsPodsConfiguresAgentsAndReportsReady) {
  PodInfo finished = makePod("d", {{"app", "checkout"}});
  finished.phase = "Succeeded";
  PodInfo elsewhere = makePod("e", {{"app", "checkout"}});
  elsewhere.namespace_name = "other";
  const std::vector<PodInfo> pods = {
      injected(makePod("a", {{"app", "checkout"}}), kNow - seconds{20}),
      makePod("b", {{"app", "checkout"}}),
      makePod("c", {{"app", "cart"}, {"kprof.dev/env", "prod"}, {"kprof.dev/policy", "checkout"}}),
      finished,
      elsewhere,
  };
  EXPECT_EQ(toJson(plan(checkoutPolicy(), pods)), json::parse(R"j({
    "status": {
      "observedGeneration": 2,
      "conditions": [
        {"type": "Ready", "status": "True", "observedGeneration": 2,
         "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "Applied",
         "message": "profiling 2 of 2 matched pods (1 injected, 1 reporting)"
},
        {"type": "Degraded", "status": "False", "observedGeneration": 2,
         "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "AsExpected", "message": ""}
      ],
      "matchedPods": 2, "enrolledPods": 2, "injectedPods": 1, "reportingPods": 1,
      "conflicts": []
}
,
    "statusChanged": true,
    "agentConfigs": [
      {"pod": {"namespace": "shop", "name": "a", "uid": "a"},
       "policy": {"name": "checkout", "generation": 2},
       "mode": "preload",
       "profiles": {"cpu": {"enabled": true, "rateHz": 100}, "wall": {"enabled": false}},
       "labels": {"service_name": "checkout", "namespace": "shop", "pod": "a", "node": "node-a",
                  "env": "prod", "version": "1.0"},
       "targets": [{"store": {}}],
       "uploadIntervalSeconds": 10},
      {"pod": {"namespace": "shop", "name": "b", "uid": "b"},
       "policy": {"name": "checkout", "generation": 2},
       "mode": "preload",
       "profiles": {"cpu": {"enabled": true, "rateHz": 100}, "wall": {"enabled": false}},
       "labels": {"service_name": "checkout", "namespace": "shop", "pod": "b", "node": "node-a",
                  "env": "prod", "version": "1.0"},
       "targets": [{"store": {}}],
       "uploadIntervalSeconds": 10}
    ],
    "labelPatches": [
      {"pod": "a", "uid": "a", "set": {"kprof.dev/env": "prod", "kprof.dev/version": "1.0",
                                       "kprof.dev/policy": "checkout"}},
      {"pod": "b", "uid": "b", "set": {"kprof.dev/env": "prod", "kprof.dev/version": "1.0",
                                       "kprof.dev/policy": "checkout"}},
      {"pod": "c", "uid": "c", "onlyIfPolicy": "checkout",
       "remove": ["kprof.dev/env", "kprof.dev/policy"]}
    ],
    "events": [
      {"type": "Normal", "reason": "PolicyReady",
       "message": "profiling 2 of 2 matched pods (1 injected, 1 reporting)"}
    ],
    "next": {
  "requeueAfterSeconds" : 40
}
})j"));
}

TEST(PlanPolicy, InvalidSpecIsReportedAndTouchesNoPod) {
  ProfilingPolicy policy = makePolicy(
      "checkout",
      R"({"selector": {"matchLabels": {"app": "checkout"}}, "profiles": {"cpu": {"rateHz": 5000}}})");
  policy.metadata.generation = 3;
  policy.status.observed_generation = 2;
  policy.status.conditions = {
      {"Ready", ConditionStatus::True, 2, kCreated, "Applied", "profiling 1 of 1 matched pod"},
      {"Degraded", ConditionStatus::False, 2, kCreated, "AsExpected", ""}};
  policy.status.matched_pods = 1;
  policy.status.enrolled_pods = 1;
  policy.status.last_snapshot = LastSnapshot{"snap-1", "", "", std::nullopt};
  const std::vector<PodInfo> pods = {
      makePod("a", {{"app", "checkout"}, {"kprof.dev/policy", "checkout"}}),
      makePod("b", {{"app", "checkout"}})};
  EXPECT_EQ(toJson(plan(policy, pods)), json::parse(R"j({
    "status": {
      "observedGeneration": 3,
      "conditions": [
        {"type": "Ready", "status": "False", "observedGeneration": 3,
         "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "InvalidSpec",
         "message": "spec.profiles.cpu.rateHz: must be between 1 and 1000"},
        {"type": "Degraded", "status": "True", "observedGeneration": 3,
         "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "InvalidSpec",
         "message": "the policy is not applied: spec.profiles.cpu.rateHz: must be between 1 and 1000"}
      ],
      "matchedPods": 0, "enrolledPods": 0, "injectedPods": 0, "reportingPods": 0,
      "conflicts": [],
      "lastSnapshot": {"name": "snap-1"}
    },
    "statusChanged": true,
    "agentConfigs": null,
    "labelPatches": [],
    "events": [
      {"type": "Warning", "reason": "InvalidSpec",
       "message": "spec.profiles.cpu.rateHz: must be between 1 and 1000"}
    ],
    "next": {"awaitChange": true}
  })j"));
}

TEST(PlanPolicy, ObservedGenerationMovesWhileTransitionTimesStay) {
  const std::vector<PodInfo> pods = {makePod("a", {{"app", "checkout"}})};
  ProfilingPolicy policy = checkoutPolicy(1);
  const PolicyPlan first = plan(policy, pods, {}, kNow);
  ASSERT_EQ(first.status.conditions.size(), 2U);
  EXPECT_EQ(first.status.conditions[0].last_transition_time, kNow);

  // The user edits the spec: generation 2, planned an hour later, same outcome.
  policy.status = first.status;
  policy.metadata.generation = 2;
  const PolicyPlan second = plan(policy, pods, {}, kNow + minutes{60});
  EXPECT_TRUE(second.status_changed);
  EXPECT_EQ(second.status.observed_generation, 2);
  for (const Condition& condition : second.status.conditions) {
    EXPECT_EQ(condition.observed_generation, 2) << condition.type;
    EXPECT_EQ(condition.last_transition_time, kNow) << condition.type;
  }
  EXPECT_TRUE(second.events.empty());

  // Nothing changed since: the status needs no write.
  policy.status = second.status;
  const PolicyPlan third = plan(policy, pods, {}, kNow + minutes{61});
  EXPECT_FALSE(third.status_changed);
  EXPECT_TRUE(third.events.empty());

  // The spec turns invalid: Ready flips and takes a new transition time.
  ProfilingPolicy broken = policy;
  broken.spec_error = Error{ErrorCode::InvalidArgument, "spec.mode: must be one of preload, ebpf"};
  broken.metadata.generation = 3;
  const PolicyPlan fourth = plan(broken, pods, {}, kNow + minutes{62});
  EXPECT_EQ(fourth.status.conditions[0].status, ConditionStatus::False);
  EXPECT_EQ(fourth.status.conditions[0].last_transition_time, kNow + minutes{62});
  EXPECT_EQ(fourth.status.conditions[0].observed_generation, 3);
}

TEST(PlanPolicy, OverlapsAreResolvedAndReportedOnBothSides) {
  const ProfilingPolicy checkout = checkoutPolicy();
  const ProfilingPolicy canary = makePolicy(
      "canary",
      R"({"selector": {"matchLabels": {"app": "checkout", "track": "canary"}}, "priority": 10})",
      "2024-02-01T00:00:00Z");
  const ProfilingPolicy legacy = makePolicy(
      "legacy", R"({"selector": {"matchLabels": {"tier": "web"}}})", "2023-06-01T00:00:00Z");
  const std::vector<ProfilingPolicy> all = {checkout, canary, legacy};
  const std::vector<PodInfo> pods = {
      makePod("pod-1", {{"app", "checkout"}, {"track", "canary"}}),  // checkout vs canary
      makePod("pod-2", {{"app", "checkout"}, {"tier", "web"}}),      // checkout vs legacy
      makePod("pod-3", {{"app", "checkout"}}),                       // checkout alone
  };

  const PolicyPlan loser = plan(checkout, pods, all);
  json status = toJson(loser.status);
  EXPECT_EQ(status["matchedPods"], 3);
  EXPECT_EQ(status["enrolledPods"], 1);
  EXPECT_EQ(status["conflicts"], json::parse(R"j([
    {"policy": "canary", "pods": 1, "winner": "canary", "decidedBy": "Priority"},
    {"policy": "legacy", "pods": 1, "winner": "legacy", "decidedBy": "CreationTimestamp"}
  ])j"));
  EXPECT_EQ(status["conditions"][1], json::parse(R"j(
    {"type": "Degraded", "status": "True", "observedGeneration": 2,
     "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "PolicyConflict",
     "message": "2 pods also selected by policies that take precedence: canary (1, Priority), legacy (1, CreationTimestamp)"
}
  )j"));
  EXPECT_EQ(toJson(loser)["labelPatches"], json::parse(R"j([
    {"pod": "pod-3", "uid": "pod-3", "set": {"kprof.dev/env": "prod", "kprof.dev/version": "1.0",
                                             "kprof.dev/policy": "checkout"}}
  ])j"));
  ASSERT_TRUE(loser.agent_configs);
  ASSERT_EQ(loser.agent_configs->size(), 1U);
  EXPECT_EQ(loser.agent_configs->front().pod_name, "pod-3");
  EXPECT_EQ(toJson(loser)["events"], json::parse(R"j([
    {"type": "Normal", "reason": "PolicyReady",
     "message": "profiling 1 of 3 matched pods (0 injected, 0 reporting)"
  },
    {"type": "Warning", "reason": "PolicyConflict",
     "message": "2 pods also selected by policies that take precedence: canary (1, Priority), legacy (1, CreationTimestamp)"}
  ])j"));
  EXPECT_EQ(loser.next, NextAction::awaitChange());

  const PolicyPlan winner = plan(canary, pods, all);
  EXPECT_EQ(toJson(winner.status)["conflicts"], json::parse(R"j([
    {"policy": "checkout", "pods": 1, "winner": "canary", "decidedBy": "Priority"}
  ])j"));
  EXPECT_EQ(winner.status.conditions[1].status, ConditionStatus::False);
  EXPECT_EQ(toJson(winner)["labelPatches"], json::parse(R"j([
    {"pod": "pod-1", "uid": "pod-1", "set": {"kprof.dev/version": "1.0", "kprof.dev/policy": "canary"}}
  ])j"));

  const PolicyPlan older = plan(legacy, pods, all);
  EXPECT_EQ(older.status.enrolled_pods, 1);
  EXPECT_EQ(toJson(older.status)["conflicts"], json::parse(R"j([
    {"policy": "checkout", "pods": 1, "winner": "legacy", "decidedBy": "CreationTimestamp"}
  ])j"));
}

TEST(PlanPolicy, RolloutPicksStablePodsAndLeavesTheRestToOtherPolicies) {
  // Buckets for canary-uid: pod-0 → 73, pod-6 → 15 (see ownership_test).
  const ProfilingPolicy canary =
      makePolicy("canary", R"({"selector": {}, "priority": 10, "rollout": {"percentage": 20}})");
  const ProfilingPolicy base = makePolicy("base", R"({"selector": {}})");
  const std::vector<ProfilingPolicy> all = {canary, base};
  const std::vector<PodInfo> pods = {makePod("pod-0"), makePod("pod-6")};

  const PolicyPlan canary_plan = plan(canary, pods, all);
  EXPECT_EQ(canary_plan.status.matched_pods, 2);
  EXPECT_EQ(canary_plan.status.enrolled_pods, 1);
  ASSERT_EQ(canary_plan.label_patches.size(), 1U);
  EXPECT_EQ(canary_plan.label_patches[0].pod_name, "pod-6");
  EXPECT_EQ(canary_plan.status.conditions[1].reason, "AsExpected");

  const PolicyPlan base_plan = plan(base, pods, all);
  EXPECT_EQ(base_plan.status.enrolled_pods, 1);
  ASSERT_EQ(base_plan.label_patches.size(), 1U);
  EXPECT_EQ(base_plan.label_patches[0].pod_name, "pod-0");
  EXPECT_EQ(toJson(base_plan.status)["conflicts"], json::parse(R"j([
    {"policy": "canary", "pods": 1, "winner": "canary", "decidedBy": "Priority"}
  ])j"));
  EXPECT_EQ(base_plan.status.conditions[1].message,
            "1 pod also selected by policies that take precedence: canary (1, Priority)");

  // A paused rollout matches but profiles nothing, and strips the labels it had written.
  const ProfilingPolicy paused =
      makePolicy("canary", R"({"selector": {}, "rollout": {"percentage": 0}})");
  const PolicyPlan paused_plan = plan(paused, {makePod("pod-6", {{"kprof.dev/policy", "canary"}})});
  EXPECT_EQ(paused_plan.status.matched_pods, 1);
  EXPECT_EQ(paused_plan.status.enrolled_pods, 0);
  EXPECT_EQ(toJson(paused_plan)["labelPatches"], json::parse(R"j([
    {"pod": "pod-6", "uid": "pod-6", "onlyIfPolicy": "canary", "remove": ["kprof.dev/policy"]}
  ])j"));
}

TEST(PlanPolicy, APodThatMovesToAnotherPolicyIsRelabeledByItsNewOwnerOnly) {
  const ProfilingPolicy old_owner = checkoutPolicy();
  const ProfilingPolicy new_owner =
      makePolicy("cart", R"({"selector": {"matchLabels": {"app": "cart"}}})");
  const std::vector<ProfilingPolicy> all = {old_owner, new_owner};
  const std::vector<PodInfo> pods = {
      makePod("a", {{"app", "cart"}, {"kprof.dev/env", "prod"}, {"kprof.dev/policy", "checkout"}})};

  EXPECT_TRUE(plan(old_owner, pods, all).label_patches.empty());
  EXPECT_EQ(toJson(plan(new_owner, pods, all))["labelPatches"], json::parse(R"j([
    {"pod": "a", "uid": "a", "set": {"kprof.dev/version": "1.0", "kprof.dev/policy": "cart"},
     "remove": ["kprof.dev/env"]}
  ])j"));
}

TEST(PlanPolicy, SilentAgentsDegradeThePolicyAfterAGracePeriod) {
  PodInfo pending = injected(makePod("c", {{"app", "checkout"}}));
  pending.phase = "Pending";
  PodInfo young = injected(makePod("b", {{"app", "checkout"}}));
  young.creation_timestamp = kNow - seconds{20};
  const std::vector<PodInfo> pods = {
      injected(makePod("a", {{"app", "checkout"}})),  // old, never reported
      young,                                          // still in its grace period
      pending,                                        // not running yet
      injected(makePod("d", {{"app", "checkout"}}), kNow - seconds{59}),  // reported just in time
  };
  const PolicyPlan result = plan(checkoutPolicy(), pods);
  EXPECT_EQ(result.status.injected_pods, 4);
  EXPECT_EQ(result.status.reporting_pods, 1);
  EXPECT_EQ(toJson(result.status)["conditions"][1], json::parse(R"j(
    {"type": "Degraded", "status": "True", "observedGeneration": 2,
     "lastTransitionTime": "2024-05-01T12:10:00Z", "reason": "AgentsNotReporting",
     "message": "1 of 4 injected pods did not report within 60s"}
  )j"));
  // d's report goes stale first, in 1 s; b's grace period ends in 40 s.
  EXPECT_EQ(result.next, NextAction::requeueAfter(seconds{1}));

  // A longer upload interval widens the window: 3 × 30 s.
  const ProfilingPolicy slow = makePolicy(
      "checkout",
      R"({"selector": {"matchLabels": {"app": "checkout"}}, "uploadIntervalSeconds": 30})");
  EXPECT_EQ(reportingWindow(slow.spec), seconds{90});
  EXPECT_EQ(plan(slow, pods).status.reporting_pods, 1);
}

TEST(PlanPolicy, RecoveryIsAnEvent) {
  ProfilingPolicy policy = checkoutPolicy();
  policy.status.conditions = {
      {"Ready", ConditionStatus::True, 2, kCreated, "Applied", "profiling 1 of 1 matched pod"},
      {"Degraded", ConditionStatus::True, 2, kCreated, "PolicyConflict", "1 pod ..."}};
  const PolicyPlan result = plan(policy, {makePod("a", {{"app", "checkout"}})});
  EXPECT_EQ(toJson(result)["events"], json::parse(R"j([
    {"type": "Normal", "reason": "Recovered", "message": "the policy is no longer degraded"}
  ])j"));
  EXPECT_EQ(result.status.conditions[0].last_transition_time, kCreated);
  EXPECT_EQ(result.status.conditions[1].last_transition_time, kNow);
}

TEST(PlanPolicy, ADeletedPolicyRemovesItsLabelsUnlessAnotherPolicyTakesThePod) {
  ProfilingPolicy deleting = checkoutPolicy();
  deleting.metadata.deletion_timestamp = kNow;
  const ProfilingPolicy web =
      makePolicy("web", R"({"selector": {"matchLabels": {"tier": "web"}}})");
  const std::vector<PodInfo> pods = {
      makePod("a", {{"app", "checkout"}, {"kprof.dev/policy", "checkout"}}),
      makePod("b", {{"app", "checkout"}, {"tier", "web"}, {"kprof.dev/policy", "checkout"}}),
  };
  const PolicyPlan result = plan(deleting, pods, {deleting, web});
  EXPECT_EQ(toJson(result)["labelPatches"], json::parse(R"j([
    {"pod": "a", "uid": "a", "onlyIfPolicy": "checkout", "remove": ["kprof.dev/policy"]}
  ])j"));
  EXPECT_EQ(result.agent_configs, std::vector<AgentConfig>{});
  EXPECT_EQ(result.next, NextAction::awaitChange());
}

TEST(PlanPolicy, ReplanningAfterApplyingThePlanChangesNothing) {
  std::vector<PodInfo> pods = {
      injected(makePod("a", {{"app", "checkout"}}), kNow - seconds{5}),
      makePod("b", {{"app", "cart"}, {"kprof.dev/policy", "checkout"}}),
  };
  ProfilingPolicy policy = checkoutPolicy();
  const PolicyPlan first = plan(policy, pods);
  // Apply it: write the status, patch the labels.
  policy.status = first.status;
  for (const PodLabelPatch& patch : first.label_patches) {
    for (PodInfo& pod : pods) {
      if (pod.name != patch.pod_name) {
        continue;
      }
      for (const auto& [key, value] : patch.set) {
        pod.labels[key] = value;
      }
      for (const std::string& key : patch.remove) {
        pod.labels.erase(key);
      }
    }
  }
  const PolicyPlan second = plan(policy, pods, {}, kNow + seconds{1});
  EXPECT_FALSE(second.status_changed);
  EXPECT_TRUE(second.label_patches.empty());
  EXPECT_TRUE(second.events.empty());
  EXPECT_EQ(second.agent_configs, first.agent_configs);
}

}  // namespace
}  // namespace kprof::controllers
