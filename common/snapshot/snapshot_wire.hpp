// How a snapshot travels between the operator and its agents: the command inside an agent's
// config (GET /v1/agents/config) and the agent's account of it inside its report
// (POST /v1/agents/report). Both sides link this one definition.
//
//   config.snapshots: [{"id":"shop.api-latency-7f3a", "snapshot":"shop/api-latency-7f3a",
//                       "types":["cpu"], "rateHz":1000, "durationSeconds":30,
//                       "flightRecorderSeconds":10, "notAfterMs":1795000000000}]
//   report.snapshots: [{"id":"shop.api-latency-7f3a", "phase":"Completed",
//                       "startedAtMs":…, "completedAtMs":…, "message":"",
//                       "profiles":[{"type":"cpu","samples":2893,"bytes":5123}]}]
//
// A command stays in the config while its snapshot runs; the agent starts each id once. A command
// that leaves the config before its duration is over stops the capture early (the alert resolved).
// An agent that first sees a command after notAfterMs (it restarted, or was partitioned) reports it
// Failed instead of capturing late. Times are Unix milliseconds: both sides are ours.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"

namespace kprof::snapshot {

enum class Phase { Pending, Capturing, Completed, Failed };
std::string_view phaseName(Phase phase);  // "Pending", … as in the ProfileSnapshot CRD
Result<Phase> parsePhase(std::string_view name);

// The profile types a snapshot may ask for, as the CRD spells them.
bool isProfileType(std::string_view type);  // cpu alloc lock wall

struct SnapshotCommand {
  std::string id;        // the snapshot_id label value on every profile of this capture
  std::string snapshot;  // "namespace/name" of the ProfileSnapshot, for logs and reports
  std::vector<std::string> types{"cpu"};
  int rate_hz = 1000;
  int duration_seconds = 30;
  int flight_recorder_seconds = 10;  // how much of the time before the command to upload too
  std::int64_t not_after_ms = 0;     // do not start after this (0: no limit)

  bool operator==(const SnapshotCommand&) const = default;
};

struct ProfileOutcome {
  std::string type;
  std::int64_t samples = 0;
  std::int64_t bytes = 0;  // encoded pprof bytes uploaded

  bool operator==(const ProfileOutcome&) const = default;
};

// One agent's account of one command.
struct SnapshotReport {
  std::string id;
  Phase phase = Phase::Pending;
  std::int64_t started_at_ms = 0;    // when sampling at the snapshot rate began
  std::int64_t completed_at_ms = 0;  // when the last upload finished or failed
  std::string message;               // why it failed, or notes ("stopped early: resolved")
  std::vector<ProfileOutcome> profiles;

  bool operator==(const SnapshotReport&) const = default;
};

nlohmann::json toJson(const SnapshotCommand& command);
nlohmann::json toJson(const SnapshotReport& report);

// Strict readers: the error names the bad field ("snapshots[0].rateHz: must be 1..10000").
Result<SnapshotCommand> readSnapshotCommand(const nlohmann::json& value);
Result<SnapshotReport> readSnapshotReport(const nlohmann::json& value);

// The `snapshots` array of an agent config or report; absent or null means none. One bad entry
// fails the whole read (a config is accepted or refused as a whole).
Result<std::vector<SnapshotCommand>> readSnapshotCommands(const nlohmann::json& config);
Result<std::vector<SnapshotReport>> readSnapshotReports(const nlohmann::json& report);

}  // namespace kprof::snapshot
