#include "agent/snapshot/snapshot_tracker.hpp"

#include <algorithm>

namespace kprof::agent::snapshot {

using kprof::snapshot::Phase;

SnapshotTracker::SnapshotTracker(std::size_t max_reports, std::size_t max_remembered_ids)
    : max_reports_(std::max<std::size_t>(max_reports, 1)),
      max_remembered_ids_(std::max<std::size_t>(max_remembered_ids, 1)) {}

bool SnapshotTracker::known(const std::string& id) const {
  return std::find(seen_ids_.begin(), seen_ids_.end(), id) != seen_ids_.end();
}

void SnapshotTracker::remember(const std::string& id) {
  seen_ids_.push_back(id);
  while (seen_ids_.size() > max_remembered_ids_) seen_ids_.pop_front();
}

SnapshotReport& SnapshotTracker::report(const std::string& id) {
  auto it = std::find_if(reports_.begin(), reports_.end(),
                         [&](const SnapshotReport& report) { return report.id == id; });
  if (it != reports_.end()) return *it;
  reports_.push_back(SnapshotReport{.id = id});
  while (reports_.size() > max_reports_) reports_.pop_front();
  return reports_.back();
}

void SnapshotTracker::setCommands(std::vector<SnapshotCommand> commands) {
  commands_ = std::move(commands);
}

std::vector<SnapshotStep> SnapshotTracker::advance(int64_t now_ms) {
  std::vector<SnapshotStep> steps;
  auto in_config = [&](const std::string& id) {
    return std::any_of(commands_.begin(), commands_.end(),
                       [&](const SnapshotCommand& command) { return command.id == id; });
  };
  for (const SnapshotCommand& command : commands_) {
    if (known(command.id)) continue;
    remember(command.id);
    report(command.id);  // Pending until it starts
    waiting_.push_back(command);
  }
  // Waiting commands withdrawn before they started are dropped without a capture.
  std::erase_if(waiting_, [&](const SnapshotCommand& command) {
    if (in_config(command.id)) return false;
    report(command.id).phase = Phase::Failed;
    report(command.id).completed_at_ms = now_ms;
    report(command.id).message = "withdrawn before it started";
    return true;
  });
  if (active_) {
    const bool withdrawn = !in_config(active_->id);
    if (withdrawn || now_ms >= active_until_ms_) {
      steps.push_back(SnapshotStep{SnapshotStep::Kind::Stop, *active_, withdrawn});
      active_.reset();
    }
  }
  while (!active_ && !waiting_.empty()) {
    SnapshotCommand next = std::move(waiting_.front());
    waiting_.pop_front();
    if (next.not_after_ms != 0 && now_ms > next.not_after_ms) {
      failed(next.id, now_ms, "command arrived after its deadline");
      continue;
    }
    active_until_ms_ = now_ms + int64_t{next.duration_seconds} * 1000;
    active_ = next;
    steps.push_back(SnapshotStep{SnapshotStep::Kind::Start, std::move(next), false});
  }
  return steps;
}

void SnapshotTracker::started(const std::string& id, int64_t at_ms, std::string message) {
  SnapshotReport& entry = report(id);
  entry.phase = Phase::Capturing;
  entry.started_at_ms = at_ms;
  entry.message = std::move(message);
}

void SnapshotTracker::finished(const std::string& id,
                               int64_t at_ms,
                               std::vector<kprof::snapshot::ProfileOutcome> profiles,
                               std::string message) {
  SnapshotReport& entry = report(id);
  entry.phase = Phase::Completed;
  entry.completed_at_ms = at_ms;
  entry.profiles = std::move(profiles);
  entry.message = std::move(message);
}

void SnapshotTracker::failed(const std::string& id, int64_t at_ms, std::string message) {
  SnapshotReport& entry = report(id);
  entry.phase = Phase::Failed;
  entry.completed_at_ms = at_ms;
  entry.message = std::move(message);
  if (active_ && active_->id == id) active_.reset();
}

std::vector<SnapshotReport> SnapshotTracker::reports() const {
  return {reports_.begin(), reports_.end()};
}

}  // namespace kprof::agent::snapshot
