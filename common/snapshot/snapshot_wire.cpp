#include "common/snapshot/snapshot_wire.hpp"

#include <array>
#include <limits>

namespace kprof::snapshot {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kPhaseNames{"Pending", "Capturing", "Completed",
                                                      "Failed"};
constexpr std::array<std::string_view, 4> kProfileTypes{"cpu", "alloc", "lock", "wall"};

Error fieldError(std::string_view field, std::string_view problem) {
  return makeError(ErrorCode::InvalidArgument, std::string(field) + ": " + std::string(problem));
}

// Reads value[field] as a string; absent is "" unless required.
Result<std::string> stringField(const json& value, std::string_view field, bool required) {
  auto it = value.find(field);
  if (it == value.end() || it->is_null()) {
    if (required) return fieldError(field, "required");
    return std::string();
  }
  if (!it->is_string()) return fieldError(field, "must be a string");
  return it->get<std::string>();
}

// Reads value[field] as an integer in [min, max]; absent gives `fallback`.
Result<std::int64_t> integerField(const json& value,
                                  std::string_view field,
                                  std::int64_t min,
                                  std::int64_t max,
                                  std::int64_t fallback) {
  auto it = value.find(field);
  if (it == value.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return fieldError(field, "must be an integer");
  std::int64_t number = 0;
  if (it->is_number_unsigned()) {
    auto unsigned_number = it->get<std::uint64_t>();
    if (unsigned_number > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return fieldError(field, "out of range");
    }
    number = static_cast<std::int64_t>(unsigned_number);
  } else {
    number = it->get<std::int64_t>();
  }
  if (number < min || number > max) {
    return fieldError(field, "must be between " + std::to_string(min) + " and " +
                                 std::to_string(max));
  }
  return number;
}

// Reads a JSON array of entries with `read`, naming the index in errors.
template <typename T, typename Reader>
Result<std::vector<T>> readArray(const json& holder, std::string_view field, Reader read) {
  std::vector<T> entries;
  if (!holder.is_object()) return entries;
  auto it = holder.find(field);
  if (it == holder.end() || it->is_null()) return entries;
  if (!it->is_array()) return fieldError(field, "must be an array");
  for (std::size_t i = 0; i < it->size(); ++i) {
    auto entry = read((*it)[i]);
    if (!entry) {
      return entry.error().wrap(std::string(field) + "[" + std::to_string(i) + "]");
    }
    entries.push_back(std::move(*entry));
  }
  return entries;
}

}  // namespace

std::string_view phaseName(Phase phase) { return kPhaseNames[static_cast<std::size_t>(phase)]; }

Result<Phase> parsePhase(std::string_view name) {
  for (std::size_t i = 0; i < kPhaseNames.size(); ++i) {
    if (kPhaseNames[i] == name) return static_cast<Phase>(i);
  }
  return fieldError("phase", "unknown phase \"" + std::string(name) + "\"");
}

bool isProfileType(std::string_view type) {
  for (auto known : kProfileTypes) {
    if (known == type) return true;
  }
  return false;
}

json toJson(const SnapshotCommand& command) {
  return json{{"id", command.id},
              {"snapshot", command.snapshot},
              {"types", command.types},
              {"rateHz", command.rate_hz},
              {"durationSeconds", command.duration_seconds},
              {"flightRecorderSeconds", command.flight_recorder_seconds},
              {"notAfterMs", command.not_after_ms}};
}

json toJson(const SnapshotReport& report) {
  json profiles = json::array();
  for (const auto& profile : report.profiles) {
    profiles.push_back(
        {{"type", profile.type}, {"samples", profile.samples}, {"bytes", profile.bytes}});
  }
  return json{{"id", report.id},
              {"phase", phaseName(report.phase)},
              {"startedAtMs", report.started_at_ms},
              {"completedAtMs", report.completed_at_ms},
              {"message", report.message},
              {"profiles", std::move(profiles)}};
}

Result<SnapshotCommand> readSnapshotCommand(const json& value) {
  if (!value.is_object()) return fieldError("command", "must be an object");
  SnapshotCommand command;
  auto id = stringField(value, "id", true);
  if (!id) return id.error();
  if (id->empty() || id->size() > 128) return fieldError("id", "must be 1 to 128 characters");
  command.id = std::move(*id);
  auto name = stringField(value, "snapshot", false);
  if (!name) return name.error();
  command.snapshot = std::move(*name);

  if (auto types = value.find("types"); types != value.end() && !types->is_null()) {
    if (!types->is_array() || types->empty()) return fieldError("types", "must be a non-empty array");
    command.types.clear();
    for (const auto& type : *types) {
      if (!type.is_string() || !isProfileType(type.get<std::string>())) {
        return fieldError("types", "entries must be cpu, alloc, lock or wall");
      }
      command.types.push_back(type.get<std::string>());
    }
  }
  auto rate = integerField(value, "rateHz", 1, 10000, command.rate_hz);
  if (!rate) return rate.error();
  command.rate_hz = static_cast<int>(*rate);
  auto duration = integerField(value, "durationSeconds", 1, 600, command.duration_seconds);
  if (!duration) return duration.error();
  command.duration_seconds = static_cast<int>(*duration);
  auto before = integerField(value, "flightRecorderSeconds", 0, 300,
                             command.flight_recorder_seconds);
  if (!before) return before.error();
  command.flight_recorder_seconds = static_cast<int>(*before);
  auto not_after = integerField(value, "notAfterMs", 0, std::numeric_limits<std::int64_t>::max(), 0);
  if (!not_after) return not_after.error();
  command.not_after_ms = *not_after;
  return command;
}

Result<SnapshotReport> readSnapshotReport(const json& value) {
  if (!value.is_object()) return fieldError("report", "must be an object");
  SnapshotReport report;
  auto id = stringField(value, "id", true);
  if (!id) return id.error();
  report.id = std::move(*id);
  auto phase_name = stringField(value, "phase", true);
  if (!phase_name) return phase_name.error();
  auto phase = parsePhase(*phase_name);
  if (!phase) return phase.error();
  report.phase = *phase;
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  auto started = integerField(value, "startedAtMs", 0, kMax, 0);
  if (!started) return started.error();
  report.started_at_ms = *started;
  auto completed = integerField(value, "completedAtMs", 0, kMax, 0);
  if (!completed) return completed.error();
  report.completed_at_ms = *completed;
  auto message = stringField(value, "message", false);
  if (!message) return message.error();
  report.message = std::move(*message);
  auto profiles = readArray<ProfileOutcome>(value, "profiles", [](const json& entry)
                                                                  -> Result<ProfileOutcome> {
    if (!entry.is_object()) return fieldError("profile", "must be an object");
    ProfileOutcome outcome;
    auto type = stringField(entry, "type", true);
    if (!type) return type.error();
    if (!isProfileType(*type)) return fieldError("type", "must be cpu, alloc, lock or wall");
    outcome.type = std::move(*type);
    auto samples = integerField(entry, "samples", 0, kMax, 0);
    if (!samples) return samples.error();
    outcome.samples = *samples;
    auto bytes = integerField(entry, "bytes", 0, kMax, 0);
    if (!bytes) return bytes.error();
    outcome.bytes = *bytes;
    return outcome;
  });
  if (!profiles) return profiles.error();
  report.profiles = std::move(*profiles);
  return report;
}

Result<std::vector<SnapshotCommand>> readSnapshotCommands(const json& config) {
  return readArray<SnapshotCommand>(config, "snapshots", readSnapshotCommand);
}

Result<std::vector<SnapshotReport>> readSnapshotReports(const json& report) {
  return readArray<SnapshotReport>(report, "snapshots", readSnapshotReport);
}

}  // namespace kprof::snapshot
