// The ProfileSnapshot controller's pure core: from a snapshot resource, what its agents reported
// and which of its pods still exist, decide its status, which agent configs carry its command, and
// whether its time to live is over. No I/O, the clock is an input.
//
// Per pod: the agent's report decides; a pod whose agent has not started by creation + start
// deadline, whose capture has no result by start + duration + grace, or which is gone, fails with
// a message. A pod's terminal result is kept even if its agent's report disappears (the operator
// or the agent restarted). The snapshot is Capturing once any pod started, Completed when every
// pod is done and at least one completed, Failed when none did.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/snapshot/snapshot_wire.hpp"
#include "controllers/snapshot/profile_snapshot.hpp"

namespace kprof::controllers {

struct SnapshotPlanOptions {
  std::chrono::seconds start_deadline{60};
  std::chrono::seconds result_grace{60};
  std::chrono::seconds ttl{std::chrono::hours(24)};
  int flight_recorder_seconds = 10;
  std::chrono::seconds recheck_interval{1};  // while running: reports arrive any time
};

struct SnapshotObservation {
  WallTime now;
  std::set<std::string> existing_pods;  // of the snapshot's target pods, those that exist
  // This snapshot's entry in each target pod agent's latest report, by pod name.
  std::map<std::string, snapshot::SnapshotReport> reports;
  std::string query_url;  // where its profiles can be looked at; empty if unknown
};

struct SnapshotPlan {
  SnapshotStatus status;
  bool status_changed = false;
  snapshot::SnapshotCommand command;
  std::vector<std::string> command_pods;  // target pods whose agent config carries `command`
  bool expired = false;                   // terminal for longer than the TTL: delete it
  std::optional<std::chrono::seconds> recheck_after;
};

SnapshotPlan planSnapshot(const ProfileSnapshot& snapshot,
                          const SnapshotObservation& observed,
                          const SnapshotPlanOptions& options);

// The agent command a snapshot sends, from its spec.
snapshot::SnapshotCommand snapshotCommand(const ProfileSnapshot& snapshot,
                                          const SnapshotPlanOptions& options);

}  // namespace kprof::controllers
