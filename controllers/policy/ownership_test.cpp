#include "controllers/policy/ownership.hpp"

#include <vector>

#include <gtest/gtest.h>

#include "controllers/policy/test_fixtures.hpp"

namespace kprof::controllers {
namespace {

using testing::makePod;
using testing::makePolicy;

TEST(Fnv1a64, MatchesTheReferenceVectors) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ULL);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cULL);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ULL);
}

TEST(RolloutBucket, IsFixedForAGivenPodAndPolicy) {
  // Pinned: changing these moves pods in and out of every running rollout.
  struct Case {
    const char* pod_uid = nullptr;
    const char* policy_uid = nullptr;
    int bucket = 0;
  };
  const std::vector<Case> cases = {
      {"pod-uid-1", "policy-uid-1", 1},
      {"3f0c1e8a-0000-4000-8000-000000000001", "9d7b2c44-1111-4222-8333-444455556666", 88},
      {"u", "p", 27},
      {"pod-0", "canary-uid", 73},
      {"pod-6", "canary-uid", 15},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(rolloutBucket(c.pod_uid, c.policy_uid), c.bucket) << c.pod_uid;
  }
  EXPECT_FALSE(inRollout(15, "pod-6", "canary-uid"));
  EXPECT_TRUE(inRollout(16, "pod-6", "canary-uid"));
  EXPECT_FALSE(inRollout(0, "pod-6", "canary-uid"));
  EXPECT_TRUE(inRollout(100, "pod-0", "canary-uid"));
}

TEST(RolloutBucket, GrowingARolloutKeepsThePodsAlreadyIn) {
  int in_10 = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string uid = "pod-" + std::to_string(i);
    if (inRollout(10, uid, "policy")) {
      ++in_10;
      EXPECT_TRUE(inRollout(20, uid, "policy")) << uid;
    }
  }
  // Roughly the requested share.
  EXPECT_GT(in_10, 150);
  EXPECT_LT(in_10, 250);
}

TEST(ComparePolicies, PriorityThenAgeThenName) {
  const auto high =
      makePolicy("b-high", R"({"selector": {}, "priority": 10})", "2024-03-01T00:00:00Z");
  const auto old = makePolicy("c-old", R"({"selector": {}})", "2024-01-01T00:00:00Z");
  const auto young = makePolicy("a-young", R"({"selector": {}})", "2024-02-01T00:00:00Z");
  const auto twin = makePolicy("d-twin", R"({"selector": {}})", "2024-01-01T00:00:00Z");
  struct Case {
    const ProfilingPolicy* first = nullptr;
    const ProfilingPolicy* second = nullptr;
    bool first_wins = false;
    DecidedBy decided_by = DecidedBy::Priority;
  };
  const std::vector<Case> cases = {
      {&high, &old, true, DecidedBy::Priority},
      {&old, &high, false, DecidedBy::Priority},
      {&old, &young, true, DecidedBy::CreationTimestamp},
      {&young, &old, false, DecidedBy::CreationTimestamp},
      {&old, &twin, true, DecidedBy::Name},
      {&twin, &old, false, DecidedBy::Name},
  };
  for (const Case& c : cases) {
    const Precedence precedence = comparePolicies(*c.first, *c.second);
    EXPECT_EQ(precedence.first_wins, c.first_wins)
        << c.first->metadata.name << " vs " << c.second->metadata.name;
    EXPECT_EQ(precedence.decided_by, c.decided_by)
        << c.first->metadata.name << " vs " << c.second->metadata.name;
  }
}

std::vector<std::string> names(const std::vector<const ProfilingPolicy*>& policies) {
  std::vector<std::string> out;
  out.reserve(policies.size());
  for (const ProfilingPolicy* policy : policies) {
    out.push_back(policy->metadata.name);
  }
  return out;
}

TEST(ResolveOwners, PicksOneOwnerDeterministically) {
  const PodInfo web = makePod("pod-6", {{"app", "web"}});
  ProfilingPolicy deleting = makePolicy("deleting", R"({"selector": {}, "priority": 900})");
  deleting.metadata.deletion_timestamp = testing::kCreated;
  ProfilingPolicy elsewhere = makePolicy("elsewhere", R"({"selector": {}, "priority": 900})");
  elsewhere.metadata.namespace_name = "other";
  struct Case {
    const char* name = nullptr;
    std::vector<ProfilingPolicy> policies;
    PodInfo pod;
    std::string owner;  // "" for none
    std::vector<std::string> losers;
  };
  PodInfo finished = web;
  finished.phase = "Succeeded";
  const std::vector<Case> cases = {
      {"nothing selects the pod",
       {makePolicy("cart", R"({"selector": {"matchLabels": {"app": "cart"}}})")},
       web,
       "",
       {}},
      {"a single claimant owns it",
       {makePolicy("web", R"({"selector": {"matchLabels": {"app": "web"}}})")},
       web,
       "web",
       {}},
      {"higher priority wins, in any order",
       {makePolicy("low", R"({"selector": {}})"),
        makePolicy("high", R"({"selector": {}, "priority": 5})"),
        makePolicy("mid", R"({"selector": {}, "priority": 1})")},
       web,
       "high",
       {"mid", "low"}},
      {"older wins at equal priority",
       {makePolicy("young", R"({"selector": {}})", "2024-02-01T00:00:00Z"),
        makePolicy("old", R"({"selector": {}})", "2024-01-01T00:00:00Z")},
       web,
       "old",
       {"young"}},
      {"name decides the rest",
       {makePolicy("zeta", R"({"selector": {}})"), makePolicy("alpha", R"({"selector": {}})")},
       web,
       "alpha",
       {"zeta"}},
      {"invalid, deleting and other-namespace policies claim nothing",
       {makePolicy("invalid", R"({"selector": {}, "priority": 900, "mode": "perf"})"),
        deleting,
        elsewhere,
        makePolicy("plain", R"({"selector": {}})")},
       web,
       "plain",
       {}},
      {"a pod outside a rollout falls to the next policy",
       // pod-6 is in bucket 15 of canary-uid: outside a 10 % rollout.
       {makePolicy("canary", R"({"selector": {}, "priority": 10, "rollout": {"percentage": 10}})"),
        makePolicy("base", R"({"selector": {}})")},
       web,
       "base",
       {}},
      {"finished pods have no owner",
       {makePolicy("plain", R"({"selector": {}})")},
       finished,
       "",
       {}},
  };
  for (const Case& c : cases) {
    const PodOwnership ownership = resolveOwners(c.policies, c.pod);
    const std::string owner = ownership.owner != nullptr ? ownership.owner->metadata.name : "";
    EXPECT_EQ(owner, c.owner) << c.name;
    EXPECT_EQ(names(ownership.losers), c.losers) << c.name;
  }
}

}  // namespace
}  // namespace kprof::controllers
