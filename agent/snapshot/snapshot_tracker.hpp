// Which snapshot commands an agent runs, when, and what it reports about them. Pure: the sidecar
// hands in the commands of each config and the time (Unix ms), and executes the steps returned.
//
// - each id runs once; a re-delivered config does not start it again (ids are remembered, bounded);
// - one capture at a time: a new command waits while another captures;
// - a command first seen (or still waiting) after its notAfterMs is reported Failed;
// - a capture ends when its duration is over, or early when its command leaves the config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/snapshot/snapshot_wire.hpp"

namespace kprof::agent::snapshot {

using kprof::snapshot::SnapshotCommand;
using kprof::snapshot::SnapshotReport;

struct SnapshotStep {
  enum class Kind { Start, Stop };
  Kind kind = Kind::Start;
  SnapshotCommand command;
  bool early = false;  // Stop: the command left the config before its duration was over
};

class SnapshotTracker {
 public:
  explicit SnapshotTracker(std::size_t max_reports = 16, std::size_t max_remembered_ids = 256);

  // The `snapshots` of the config now in force (replaces the previous list).
  void setCommands(std::vector<SnapshotCommand> commands);
  // What to do at `now_ms`: stop the capture that is over, start the next one. Late commands
  // are marked Failed here.
  std::vector<SnapshotStep> advance(int64_t now_ms);

  // The sidecar's account of what it did.
  void started(const std::string& id, int64_t at_ms, std::string message = "");
  void finished(const std::string& id,
                int64_t at_ms,
                std::vector<kprof::snapshot::ProfileOutcome> profiles,
                std::string message);
  void failed(const std::string& id, int64_t at_ms, std::string message);

  // The capture in progress, if any.
  const std::optional<SnapshotCommand>& active() const { return active_; }
  // Reports of the most recent commands, oldest first.
  std::vector<SnapshotReport> reports() const;

 private:
  bool known(const std::string& id) const;
  void remember(const std::string& id);
  SnapshotReport& report(const std::string& id);

  std::size_t max_reports_;
  std::size_t max_remembered_ids_;
  std::vector<SnapshotCommand> commands_;
  std::deque<std::string> seen_ids_;     // every id ever taken up, newest last (bounded)
  std::deque<SnapshotCommand> waiting_;  // taken up, not yet started
  std::optional<SnapshotCommand> active_;
  int64_t active_until_ms_ = 0;
  std::deque<SnapshotReport> reports_;
};

}  // namespace kprof::agent::snapshot
