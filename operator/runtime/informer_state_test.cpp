#include "operator/runtime/informer_state.hpp"

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;
using Phase = InformerPhase;
using Kind = InformerOutcome::Kind;
using Act = InformerAction::Kind;

InformerState st(Phase phase, std::string rv = "", uint32_t failures = 0, uint32_t watches = 0) {
  return {phase, std::move(rv), failures, watches};
}

InformerOutcome watchOutcome(Kind kind,
                             Clock::Duration open_for,
                             uint64_t events,
                             ErrorCode error = ErrorCode::Internal) {
  return {kind, "", error, open_for, events};
}

struct Row {
  const char* name;
  InformerState from;
  InformerOutcome outcome;
  InformerState to;
  InformerAction action;
};

TEST(InformerStateMachine, TransitionTable) {
  const std::vector<Row> rows = {
      {"start lists",
       st(Phase::Watching, "7", 2),
       {Kind::Started},
       st(Phase::Empty, "", 2),
       {Act::List}},
      {"list done: watch from its version",
       st(Phase::Empty),
       {Kind::ListDone, "10"},
       st(Phase::Listed, "10"),
       {Act::Watch, "10"}},
      {"list failed: back off, attempt 0",
       st(Phase::Empty),
       {Kind::ListFailed, "", ErrorCode::Unavailable},
       st(Phase::Empty, "", 1),
       {Act::Backoff, "", 0}},
      {"list failed again: attempt 1",
       st(Phase::Empty, "", 1),
       {Kind::ListFailed, "", ErrorCode::Unavailable},
       st(Phase::Empty, "", 2),
       {Act::Backoff, "", 1}},
      {"backoff over with nothing listed: list",
       st(Phase::Empty, "", 2),
       {Kind::BackoffDone},
       st(Phase::Empty, "", 2),
       {Act::List}},
      {"continue token expired: list again at once",
       st(Phase::Empty),
       {Kind::ListFailed, "", ErrorCode::Expired},
       st(Phase::Empty, "", 1),
       {Act::List}},
      {"continue token expired again: back off",
       st(Phase::Empty, "", 1),
       {Kind::ListFailed, "", ErrorCode::Expired},
       st(Phase::Empty, "", 2),
       {Act::Backoff, "", 1}},
      {"watch opened",
       st(Phase::Listed, "10"),
       {Kind::WatchOpened},
       st(Phase::Watching, "10", 0, 1),
       {Act::Continue}},
      {"list done again: the watch count starts over",
       st(Phase::Empty, "", 1, 3),
       {Kind::ListDone, "12"},
       st(Phase::Listed, "12", 1, 0),
       {Act::Watch, "12"}},
      {"event moves the version",
       st(Phase::Watching, "10"),
       {Kind::WatchEvent, "11"},
       st(Phase::Watching, "11"),
       {Act::Continue}},
      {"bookmark moves the version",
       st(Phase::Watching, "11"),
       {Kind::WatchEvent, "40"},
       st(Phase::Watching, "40"),
       {Act::Continue}},
      {"stream ended cleanly: re-watch from the last version at once",
       st(Phase::Watching, "40", 1),
       watchOutcome(Kind::WatchEnded, 0s, 3),
       st(Phase::Listed, "40", 1),
       {Act::Watch, "40"}},
      {"quiet stream that ran long enough: re-watch at once",
       st(Phase::Watching, "40"),
       watchOutcome(Kind::WatchEnded, 5min, 0),
       st(Phase::Listed, "40"),
       {Act::Watch, "40"}},
      {"stream closed at once with nothing: back off",
       st(Phase::Watching, "40"),
       watchOutcome(Kind::WatchEnded, 100ms, 0),
       st(Phase::Listed, "40", 1),
       {Act::Backoff, "", 0}},
      {"watch error: back off, keep the version",
       st(Phase::Watching, "40"),
       watchOutcome(Kind::WatchFailed, 10s, 2, ErrorCode::Unavailable),
       st(Phase::Listed, "40", 1),
       {Act::Backoff, "", 0}},
      {"watch error after a healthy watch: backoff starts over",
       st(Phase::Watching, "40", 5),
       watchOutcome(Kind::WatchFailed, 2min, 2, ErrorCode::Unavailable),
       st(Phase::Listed, "40", 1),
       {Act::Backoff, "", 0}},
      {"watch error soon after other failures: longer backoff",
       st(Phase::Watching, "40", 3),
       watchOutcome(Kind::WatchFailed, 1s, 0, ErrorCode::Unavailable),
       st(Phase::Listed, "40", 4),
       {Act::Backoff, "", 3}},
      {"backoff over with a version: watch from it",
       st(Phase::Listed, "40", 4),
       {Kind::BackoffDone},
       st(Phase::Listed, "40", 4),
       {Act::Watch, "40"}},
      {"expired on resuming: re-list at once",
       st(Phase::Watching, "40", 1, 2),
       watchOutcome(Kind::WatchFailed, 0s, 0, ErrorCode::Expired),
       st(Phase::Empty, "", 1, 2),
       {Act::List}},
      {"expired on the first watch after a list: back off before listing",
       st(Phase::Watching, "50", 0, 1),
       watchOutcome(Kind::WatchFailed, 0s, 0, ErrorCode::Expired),
       st(Phase::Empty, "", 1, 1),
       {Act::Backoff, "", 0}},
      {"expired on the first watch after it delivered events: re-list at once",
       st(Phase::Watching, "50", 0, 1),
       watchOutcome(Kind::WatchFailed, 1s, 3, ErrorCode::Expired),
       st(Phase::Empty, "", 0, 1),
       {Act::List}},
      {"expired after a healthy watch: re-list at once, failures forgotten",
       st(Phase::Watching, "50", 3, 1),
       watchOutcome(Kind::WatchFailed, 10min, 0, ErrorCode::Expired),
       st(Phase::Empty, "", 0, 1),
       {Act::List}},
      {"a watch outcome with nothing listed: list",
       st(Phase::Empty),
       watchOutcome(Kind::WatchEnded, 0s, 0),
       st(Phase::Empty),
       {Act::List}},
  };
  for (const Row& row : rows) {
    const InformerStep step = nextInformerStep(row.from, row.outcome);
    EXPECT_EQ(step.state, row.to) << row.name << ": got " << informerPhaseName(step.state.phase)
                                  << "(" << step.state.resource_version << ", "
                                  << step.state.failures << ")";
    EXPECT_EQ(step.action, row.action)
        << row.name << ": got action " << static_cast<int>(step.action.kind) << " rv "
        << step.action.resource_version << " attempt " << step.action.attempt;
  }
}

TEST(InformerStateMachine, TimingThresholdsAreConfigurable) {
  const InformerTiming strict{.healthy_watch = 10s, .min_watch = 0s};
  // With min_watch 0 an empty stream is never "too short".
  EXPECT_EQ(
      nextInformerStep(st(Phase::Watching, "5"), watchOutcome(Kind::WatchEnded, 0s, 0), strict)
          .action,
      (InformerAction{Act::Watch, "5"}));
  EXPECT_EQ(nextInformerStep(st(Phase::Watching, "5", 4),
                             watchOutcome(Kind::WatchFailed, 10s, 0, ErrorCode::Unavailable),
                             strict)
                .action,
            (InformerAction{Act::Backoff, "", 0}));
}

}  // namespace
}  // namespace kprof::runtime
