#include "controllers/policy/policy_status.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const WallTime kT0 = *parseRfc3339("2024-05-01T12:00:00Z");

Condition condition(const char* type, ConditionStatus status, const char* reason, WallTime at) {
  return {type, status, 1, at, reason, ""};
}

TEST(WithTransitionTime, KeepsTheTimeWhileTheStatusHolds) {
  const std::vector<Condition> previous = {
      condition("Ready", ConditionStatus::True, "Applied", kT0),
      condition("Degraded", ConditionStatus::False, "AsExpected", kT0),
  };
  const WallTime now = kT0 + seconds{90} + std::chrono::milliseconds{400};
  struct Case {
    const char* name = nullptr;
    Condition desired;
    WallTime expected_time;
  };
  const std::vector<Case> cases = {
      {"same status, new reason and message",
       {"Ready", ConditionStatus::True, 2, {}, "Applied", "profiling 3 of 3 matched pods"},
       kT0},
      {"status changed",
       {"Degraded", ConditionStatus::True, 2, {}, "PolicyConflict", "x"},
       kT0 + seconds{90}},
      {"new condition",
       {"Paused", ConditionStatus::False, 2, {}, "NotPaused", ""},
       kT0 + seconds{90}},
  };
  for (const Case& c : cases) {
    Condition expected = c.desired;
    expected.last_transition_time = c.expected_time;
    EXPECT_EQ(withTransitionTime(previous, c.desired, now), expected) << c.name;
  }
}

TEST(PolicyStatusJson, RoundTripsWhole) {
  PolicyStatus status;
  status.observed_generation = 7;
  status.conditions = {
      {"Ready", ConditionStatus::True, 7, kT0, "Applied", "profiling 2 of 3 matched pods"},
      {"Degraded", ConditionStatus::True, 7, kT0 + seconds{5}, "PolicyConflict", "1 pod ..."},
  };
  status.matched_pods = 3;
  status.enrolled_pods = 2;
  status.injected_pods = 2;
  status.reporting_pods = 1;
  status.conflicts = {{"canary", 1, "canary", DecidedBy::Priority},
                      {"legacy", 2, "checkout", DecidedBy::CreationTimestamp}};
  status.last_snapshot = LastSnapshot{"snap-1", "latency", "HighLatency", kT0 + seconds{1}};

  const json expected = json::parse(R"({
    "observedGeneration": 7,
    "conditions": [
      {"type": "Ready", "status": "True", "observedGeneration": 7,
       "lastTransitionTime": "2024-05-01T12:00:00Z", "reason": "Applied",
       "message": "profiling 2 of 3 matched pods"},
      {"type": "Degraded", "status": "True", "observedGeneration": 7,
       "lastTransitionTime": "2024-05-01T12:00:05Z", "reason": "PolicyConflict",
       "message": "1 pod ..."}
    ],
    "matchedPods": 3, "enrolledPods": 2, "injectedPods": 2, "reportingPods": 1,
    "conflicts": [
      {"policy": "canary", "pods": 1, "winner": "canary", "decidedBy": "Priority"},
      {"policy": "legacy", "pods": 2, "winner": "checkout", "decidedBy": "CreationTimestamp"}
    ],
    "lastSnapshot": {"name": "snap-1", "trigger": "latency", "alert": "HighLatency",
                     "startedAt": "2024-05-01T12:00:01Z"}
  })");
  EXPECT_EQ(toJson(status), expected);
  EXPECT_EQ(readPolicyStatus(expected), status);
}

TEST(PolicyStatusJson, ReadsABrokenStatusAsEmpty) {
  EXPECT_EQ(readPolicyStatus(json()), PolicyStatus{});
  EXPECT_EQ(readPolicyStatus(json::parse(R"("garbage")")), PolicyStatus{});
  const PolicyStatus partial = readPolicyStatus(json::parse(R"({
    "observedGeneration": "three", "matchedPods": 4,
    "conditions": [{"status": "True"}, "x", {"type": "Ready", "status": "Maybe",
                    "lastTransitionTime": "never"}],
    "lastSnapshot": "not an object"
  })"));
  PolicyStatus expected;
  expected.matched_pods = 4;
  expected.conditions = {{"Ready", ConditionStatus::Unknown, 0, WallTime{}, "", ""}};
  EXPECT_EQ(partial, expected);
}

}  // namespace
}  // namespace kprof::controllers
