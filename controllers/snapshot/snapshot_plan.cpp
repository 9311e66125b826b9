#include "controllers/snapshot/snapshot_plan.hpp"

#include <algorithm>

#include "controllers/policy/rfc3339.hpp"

namespace kprof::controllers {
namespace {

using snapshot::Phase;
using std::chrono::milliseconds;

bool isTerminal(Phase phase) { return phase == Phase::Completed || phase == Phase::Failed; }

int64_t unixMillis(WallTime time) {
  return std::chrono::duration_cast<milliseconds>(time.time_since_epoch()).count();
}

const PodSnapshotResult* previousResult(const SnapshotStatus& status, const std::string& pod) {
  for (const PodSnapshotResult& result : status.pods) {
    if (result.name == pod) return &result;
  }
  return nullptr;
}

PodSnapshotResult planPod(const ProfileSnapshot& snapshot, const std::string& pod,
                          const SnapshotObservation& observed, const SnapshotPlanOptions& options) {
  const PodSnapshotResult* previous = previousResult(snapshot.status, pod);
  if (previous != nullptr && isTerminal(previous->phase)) {
    return *previous;
  }
  // Without a report (the operator restarted and the agent has not reported to it yet), what the
  // status last said stands.
  PodSnapshotResult result = previous != nullptr ? *previous : PodSnapshotResult{pod, Phase::Pending, "", 0, {}};
  if (auto report = observed.reports.find(pod); report != observed.reports.end()) {
    result.phase = report->second.phase;
    result.message = report->second.message;
    result.started_at_ms = report->second.started_at_ms;
    result.profiles = report->second.profiles;
  }
  if (isTerminal(result.phase)) return result;

  const bool stop_requested = snapshot.metadata.annotations.contains(std::string(kStopRequestedAnnotation));
  const WallTime created = snapshot.metadata.creation_timestamp;
  if (!observed.existing_pods.contains(pod)) {
    return {pod, Phase::Failed, "pod gone", result.started_at_ms, result.profiles};
  }
  if (result.phase == Phase::Pending) {
    if (stop_requested) {
      return {pod, Phase::Failed, "stopped before the capture started", 0, {}};
    }
    if (observed.now >= created + options.start_deadline) {
      return {pod, Phase::Failed,
              "agent did not start the capture within " +
                  std::to_string(options.start_deadline.count()) + "s (not injected, or not polling)",
              0, {}};
    }
  }
  if (result.phase == Phase::Capturing && result.started_at_ms > 0) {
    const WallTime started{milliseconds(result.started_at_ms)};
    if (observed.now >= started + std::chrono::seconds(snapshot.spec.duration_seconds) + options.result_grace) {
      return {pod, Phase::Failed, "no result from the agent " +
                                      std::to_string(options.result_grace.count()) +
                                      "s after the capture should have ended",
              result.started_at_ms, result.profiles};
    }
  }
  return result;
}

Phase overallPhase(const std::vector<PodSnapshotResult>& pods) {
  bool all_done = true, any_completed = false, any_started = false;
  for (const PodSnapshotResult& pod : pods) {
    all_done = all_done && isTerminal(pod.phase);
    any_completed = any_completed || pod.phase == Phase::Completed;
    any_started = any_started || pod.phase != Phase::Pending || pod.started_at_ms > 0;
  }
  if (all_done) return any_completed ? Phase::Completed : Phase::Failed;
  return any_started ? Phase::Capturing : Phase::Pending;
}

}  // namespace

snapshot::SnapshotCommand snapshotCommand(const ProfileSnapshot& snapshot,
                                          const SnapshotPlanOptions& options) {
  snapshot::SnapshotCommand command;
  command.id = snapshotId(snapshot.metadata.namespace_name, snapshot.metadata.name);
  command.snapshot = snapshot.metadata.namespace_name + "/" + snapshot.metadata.name;
  command.types = snapshot.spec.types;
  command.rate_hz = snapshot.spec.rate_hz;
  command.duration_seconds = snapshot.spec.duration_seconds;
  command.flight_recorder_seconds = options.flight_recorder_seconds;
  command.not_after_ms = unixMillis(snapshot.metadata.creation_timestamp + options.start_deadline);
  return command;
}

SnapshotPlan planSnapshot(const ProfileSnapshot& snapshot,
                          const SnapshotObservation& observed,
                          const SnapshotPlanOptions& options) {
  SnapshotPlan plan;
  plan.command = snapshotCommand(snapshot, options);
  if (snapshot.terminal()) {
    plan.status = snapshot.status;
    const WallTime ended = snapshot.status.completed_at.value_or(snapshot.metadata.creation_timestamp);
    const auto remaining = ended + options.ttl - observed.now;
    plan.expired = remaining <= Clock::Duration::zero();
    if (!plan.expired) {
      plan.recheck_after = std::chrono::ceil<std::chrono::seconds>(remaining);
    }
    return plan;
  }

  SnapshotStatus& status = plan.status;
  status.snapshot_id = plan.command.id;
  status.query_url = observed.query_url;
  for (const std::string& pod : snapshot.spec.pods) {
    status.pods.push_back(planPod(snapshot, pod, observed, options));
  }
  const Phase phase = overallPhase(status.pods);
  status.phase = phase;
  int64_t earliest_start = 0;
  for (const PodSnapshotResult& pod : status.pods) {
    if (pod.started_at_ms > 0 && (earliest_start == 0 || pod.started_at_ms < earliest_start)) {
      earliest_start = pod.started_at_ms;
    }
  }
  status.started_at = snapshot.status.started_at;
  if (!status.started_at && earliest_start > 0) {
    status.started_at = truncateToSeconds(WallTime{milliseconds(earliest_start)});
  }
  if (isTerminal(phase)) {
    status.completed_at = truncateToSeconds(observed.now);
  } else {
    for (const PodSnapshotResult& pod : status.pods) {
      if (!isTerminal(pod.phase)) plan.command_pods.push_back(pod.name);
    }
    if (snapshot.metadata.annotations.contains(std::string(kStopRequestedAnnotation))) {
      plan.command_pods.clear();  // a command that leaves the config ends the capture early
    }
    plan.recheck_after = options.recheck_interval;
  }
  plan.status_changed = status != snapshot.status;
  return plan;
}

}  // namespace kprof::controllers
