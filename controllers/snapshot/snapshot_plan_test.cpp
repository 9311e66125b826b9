#include "controllers/snapshot/snapshot_plan.hpp"

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using snapshot::Phase;
using snapshot::SnapshotReport;
using std::chrono::seconds;

const WallTime kCreated{seconds(1'800'000'000)};

int64_t ms(WallTime time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}

ProfileSnapshot twoPodSnapshot() {
  ProfileSnapshot s;
  s.metadata.namespace_name = "shop";
  s.metadata.name = "checkout-latency-0123456789";
  s.metadata.creation_timestamp = kCreated;
  s.spec.policy = "checkout";
  s.spec.pods = {"checkout-1", "checkout-2"};
  s.spec.duration_seconds = 30;
  s.spec.rate_hz = 997;
  return s;
}

SnapshotObservation observedAt(WallTime now) {
  return {now, {"checkout-1", "checkout-2"}, {}, "http://pyroscope:4040/?query=x"};
}

SnapshotReport report(Phase phase, int64_t started_ms) {
  SnapshotReport r;
  r.id = "shop.checkout-latency-0123456789";
  r.phase = phase;
  r.started_at_ms = started_ms;
  if (phase == Phase::Completed) r.profiles = {{"cpu", 2900, 5100}};
  return r;
}

TEST(PlanSnapshot, ANewSnapshotIsPendingAndSendsItsCommandToEveryPod) {
  const SnapshotPlan plan = planSnapshot(twoPodSnapshot(), observedAt(kCreated + seconds(1)), {});
  EXPECT_EQ(plan.status.phase, Phase::Pending);
  EXPECT_EQ(plan.status.snapshot_id, "shop.checkout-latency-0123456789");
  EXPECT_EQ(plan.status.query_url, "http://pyroscope:4040/?query=x");
  EXPECT_TRUE(plan.status_changed);
  EXPECT_EQ(plan.command_pods, (std::vector<std::string>{"checkout-1", "checkout-2"}));
  EXPECT_EQ(plan.command.id, "shop.checkout-latency-0123456789");
  EXPECT_EQ(plan.command.rate_hz, 997);
  EXPECT_EQ(plan.command.duration_seconds, 30);
  // An agent that first sees the command after the start deadline refuses to start late.
  EXPECT_EQ(plan.command.not_after_ms, ms(kCreated + seconds(60)));
  EXPECT_EQ(plan.recheck_after, seconds(1));
}

TEST(PlanSnapshot, CapturesOnceAnAgentStartedAndRecordsTheEarliestStart) {
  SnapshotObservation observed = observedAt(kCreated + seconds(3));
  observed.reports["checkout-2"] = report(Phase::Capturing, ms(kCreated + seconds(2)));
  const SnapshotPlan plan = planSnapshot(twoPodSnapshot(), observed, {});
  EXPECT_EQ(plan.status.phase, Phase::Capturing);
  EXPECT_EQ(plan.status.started_at, kCreated + seconds(2));
  ASSERT_EQ(plan.status.pods.size(), 2u);
  EXPECT_EQ(plan.status.pods[0].phase, Phase::Pending);
  EXPECT_EQ(plan.status.pods[1].phase, Phase::Capturing);
  EXPECT_EQ(plan.status.pods[1].started_at_ms, ms(kCreated + seconds(2)));
}

TEST(PlanSnapshot, CompletesWhenEveryPodIsDoneAndStopsSendingTheCommand) {
  ProfileSnapshot s = twoPodSnapshot();
  SnapshotObservation observed = observedAt(kCreated + seconds(40));
  observed.reports["checkout-1"] = report(Phase::Completed, ms(kCreated + seconds(1)));
  observed.reports["checkout-2"] = report(Phase::Completed, ms(kCreated + seconds(2)));
  const SnapshotPlan plan = planSnapshot(s, observed, {});
  EXPECT_EQ(plan.status.phase, Phase::Completed);
  EXPECT_EQ(plan.status.completed_at, kCreated + seconds(40));
  EXPECT_TRUE(plan.command_pods.empty());
  EXPECT_EQ(plan.status.pods[0].profiles.size(), 1u);
  EXPECT_EQ(plan.status.pods[0].profiles[0].samples, 2900);
  EXPECT_FALSE(plan.recheck_after);
}

TEST(PlanSnapshot, APodWhoseAgentNeverStartsFailsAtTheDeadlineAndTheOthersStillComplete) {
  SnapshotObservation observed = observedAt(kCreated + seconds(60));
  observed.reports["checkout-1"] = report(Phase::Completed, ms(kCreated + seconds(1)));
  const SnapshotPlan plan = planSnapshot(twoPodSnapshot(), observed, {});
  EXPECT_EQ(plan.status.phase, Phase::Completed);
  EXPECT_EQ(plan.status.pods[1].phase, Phase::Failed);
  EXPECT_NE(plan.status.pods[1].message.find("did not start"), std::string::npos);

  SnapshotObservation earlier = observedAt(kCreated + seconds(59));
  earlier.reports["checkout-1"] = report(Phase::Completed, ms(kCreated + seconds(1)));
  EXPECT_EQ(planSnapshot(twoPodSnapshot(), earlier, {}).status.pods[1].phase, Phase::Pending);
}

TEST(PlanSnapshot, FailsWhenNoPodCompletes) {
  SnapshotObservation observed = observedAt(kCreated + seconds(5));
  observed.existing_pods = {"checkout-2"};  // checkout-1 was deleted
  SnapshotReport failed = report(Phase::Failed, 0);
  failed.message = "started after notAfter";
  observed.reports["checkout-2"] = failed;
  const SnapshotPlan plan = planSnapshot(twoPodSnapshot(), observed, {});
  EXPECT_EQ(plan.status.phase, Phase::Failed);
  EXPECT_EQ(plan.status.pods[0].message, "pod gone");
  EXPECT_EQ(plan.status.pods[1].message, "started after notAfter");
}

TEST(PlanSnapshot, ACaptureWithoutAResultFailsAfterDurationAndGrace) {
  const int64_t started = ms(kCreated + seconds(1));
  SnapshotObservation observed = observedAt(kCreated + seconds(1 + 30 + 60));
  observed.reports["checkout-1"] = report(Phase::Capturing, started);
  observed.reports["checkout-2"] = report(Phase::Completed, started);
  const SnapshotPlan plan = planSnapshot(twoPodSnapshot(), observed, {});
  EXPECT_EQ(plan.status.pods[0].phase, Phase::Failed);
  EXPECT_NE(plan.status.pods[0].message.find("no result"), std::string::npos);
  EXPECT_EQ(plan.status.phase, Phase::Completed);
}

TEST(PlanSnapshot, ATerminalPodResultSurvivesTheLossOfItsAgentsReport) {
  ProfileSnapshot s = twoPodSnapshot();
  s.status.phase = Phase::Capturing;
  s.status.pods = {{"checkout-1", Phase::Completed, "", ms(kCreated), {{"cpu", 10, 20}}},
                   {"checkout-2", Phase::Capturing, "", ms(kCreated), {}}};
  SnapshotObservation observed = observedAt(kCreated + seconds(10));  // the operator restarted
  observed.reports["checkout-2"] = report(Phase::Capturing, ms(kCreated));
  const SnapshotPlan plan = planSnapshot(s, observed, {});
  EXPECT_EQ(plan.status.pods[0].phase, Phase::Completed);
  EXPECT_EQ(plan.status.pods[0].profiles[0].samples, 10);
  EXPECT_EQ(plan.command_pods, std::vector<std::string>{"checkout-2"});

  // Before checkout-2's agent reports to the new operator, its status stays Capturing.
  const SnapshotPlan unreported = planSnapshot(s, observedAt(kCreated + seconds(10)), {});
  EXPECT_EQ(unreported.status.pods[1].phase, Phase::Capturing);
  EXPECT_EQ(unreported.status.phase, Phase::Capturing);
}

TEST(PlanSnapshot, AStopRequestWithdrawsTheCommandSoAgentsEndEarly) {
  ProfileSnapshot s = twoPodSnapshot();
  s.metadata.annotations[std::string(kStopRequestedAnnotation)] = "alert resolved";
  SnapshotObservation observed = observedAt(kCreated + seconds(5));
  observed.reports["checkout-1"] = report(Phase::Capturing, ms(kCreated + seconds(1)));
  const SnapshotPlan plan = planSnapshot(s, observed, {});
  EXPECT_TRUE(plan.command_pods.empty());
  EXPECT_EQ(plan.status.pods[1].phase, Phase::Failed);  // never started, will not now
  EXPECT_EQ(plan.status.phase, Phase::Capturing);       // checkout-1 still has to report
}

TEST(PlanSnapshot, ATerminalSnapshotIsLeftAsItIsUntilItsTimeToLiveEnds) {
  ProfileSnapshot s = twoPodSnapshot();
  s.status.phase = Phase::Completed;
  s.status.completed_at = kCreated + seconds(40);
  SnapshotPlanOptions options;
  options.ttl = seconds(3600);
  const SnapshotPlan kept = planSnapshot(s, observedAt(kCreated + seconds(640)), options);
  EXPECT_FALSE(kept.status_changed);
  EXPECT_FALSE(kept.expired);
  EXPECT_TRUE(kept.command_pods.empty());
  EXPECT_EQ(kept.recheck_after, seconds(3000));
  EXPECT_TRUE(planSnapshot(s, observedAt(kCreated + seconds(3640)), options).expired);
}

TEST(PlanSnapshot, ReplanningTheSameObservationChangesNothing) {
  SnapshotObservation observed = observedAt(kCreated + seconds(3));
  observed.reports["checkout-1"] = report(Phase::Capturing, ms(kCreated + seconds(2)));
  ProfileSnapshot s = twoPodSnapshot();
  s.status = planSnapshot(s, observed, {}).status;
  // The status survives a round trip through the resource.
  auto reread = readProfileSnapshot({{"metadata", {{"name", s.metadata.name}, {"namespace", "shop"},
                                                    {"creationTimestamp", "2027-01-15T08:00:00Z"}}},
                                     {"spec", {{"targets", {{"pods", s.spec.pods}}}}},
                                     {"status", snapshotStatusJson(s.status)}});
  ASSERT_TRUE(reread) << reread.error().toString();
  EXPECT_EQ(reread->status, s.status);
  EXPECT_FALSE(planSnapshot(s, observed, {}).status_changed);
}

}  // namespace
}  // namespace kprof::controllers
