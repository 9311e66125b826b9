#include "agent/snapshot/snapshot_tracker.hpp"

#include <gtest/gtest.h>

namespace kprof::agent::snapshot {
namespace {

using kprof::snapshot::Phase;
constexpr int64_t kNow = 1'795'000'000'000;

SnapshotCommand command(std::string id, int duration_seconds = 30, int64_t not_after_ms = 0) {
  SnapshotCommand out;
  out.id = std::move(id);
  out.duration_seconds = duration_seconds;
  out.not_after_ms = not_after_ms;
  return out;
}

TEST(SnapshotTracker, NewCommandStartsAtOnce) {
  SnapshotTracker tracker;
  tracker.setCommands({command("a")});
  auto steps = tracker.advance(kNow);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, SnapshotStep::Kind::Start);
  EXPECT_EQ(steps[0].command.id, "a");
  tracker.started("a", kNow);
  ASSERT_EQ(tracker.reports().size(), 1u);
  EXPECT_EQ(tracker.reports()[0].phase, Phase::Capturing);
  EXPECT_EQ(tracker.reports()[0].started_at_ms, kNow);
}

TEST(SnapshotTracker, SameIdAgainDoesNothing) {
  SnapshotTracker tracker;
  tracker.setCommands({command("a", 5)});
  ASSERT_EQ(tracker.advance(kNow).size(), 1u);
  tracker.setCommands({command("a", 5)});  // the config re-delivered
  EXPECT_TRUE(tracker.advance(kNow + 1000).empty());
  auto stop = tracker.advance(kNow + 5000);
  ASSERT_EQ(stop.size(), 1u);
  EXPECT_EQ(stop[0].kind, SnapshotStep::Kind::Stop);
  EXPECT_FALSE(stop[0].early);
  tracker.finished("a", kNow + 5100, {{"cpu", 5000, 900}}, "");
  // Still in the config after it ran: it does not run again.
  EXPECT_TRUE(tracker.advance(kNow + 60'000).empty());
  EXPECT_EQ(tracker.reports()[0].phase, Phase::Completed);
  EXPECT_EQ(tracker.reports()[0].profiles[0].samples, 5000);
}

TEST(SnapshotTracker, RemovedCommandStopsEarly) {
  SnapshotTracker tracker;
  tracker.setCommands({command("a")});
  ASSERT_EQ(tracker.advance(kNow).size(), 1u);
  tracker.setCommands({});
  auto steps = tracker.advance(kNow + 2000);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].kind, SnapshotStep::Kind::Stop);
  EXPECT_TRUE(steps[0].early);
  EXPECT_FALSE(tracker.active());
}

TEST(SnapshotTracker, LateCommandFails) {
  SnapshotTracker tracker;
  tracker.setCommands({command("late", 30, kNow - 1)});
  EXPECT_TRUE(tracker.advance(kNow).empty());
  ASSERT_EQ(tracker.reports().size(), 1u);
  EXPECT_EQ(tracker.reports()[0].phase, Phase::Failed);
  EXPECT_EQ(tracker.reports()[0].message, "command arrived after its deadline");
}

TEST(SnapshotTracker, OneCaptureAtATimeTheNextWaits) {
  SnapshotTracker tracker;
  tracker.setCommands({command("a", 10), command("b", 10, kNow + 60'000)});
  auto first = tracker.advance(kNow);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].command.id, "a");
  EXPECT_EQ(tracker.reports()[1].phase, Phase::Pending);
  auto next = tracker.advance(kNow + 10'000);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].kind, SnapshotStep::Kind::Stop);
  EXPECT_EQ(next[1].kind, SnapshotStep::Kind::Start);
  EXPECT_EQ(next[1].command.id, "b");
}

TEST(SnapshotTracker, ReportsAndIdsAreBounded) {
  SnapshotTracker tracker(/*max_reports=*/3, /*max_remembered_ids=*/4);
  for (int i = 0; i < 10; ++i) {
    tracker.setCommands({command("s" + std::to_string(i), 1)});
    tracker.advance(kNow + i * 2000);
    tracker.advance(kNow + i * 2000 + 1000);
  }
  auto reports = tracker.reports();
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports.back().id, "s9");
}

TEST(SnapshotTracker, FailedCaptureFreesTheSlot) {
  SnapshotTracker tracker;
  tracker.setCommands({command("a"), command("b")});
  ASSERT_EQ(tracker.advance(kNow).size(), 1u);
  tracker.failed("a", kNow, "no engine");
  auto steps = tracker.advance(kNow + 1);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0].command.id, "b");
}

}  // namespace
}  // namespace kprof::agent::snapshot
