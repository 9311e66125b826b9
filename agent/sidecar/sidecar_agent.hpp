// The agent loop the sidecar (and `kprof agent` on a host) runs: every upload interval, drain the
// sampling engine, symbolize and build one pprof per profile type for the service, and hand each
// to every exporter. A failed cycle is counted and logged and the loop goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include <prometheus/collectable.h>

#include "agent/export/exporter.hpp"
#include "agent/pipeline/profile_assembler.hpp"
#include "agent/sampler/sampling_engine.hpp"
#include "agent/sampler/stack_aggregator.hpp"
#include "agent/snapshot/flight_recorder.hpp"
#include "agent/snapshot/snapshot_tracker.hpp"
#include "agent/symbolizer/symbolizer.hpp"
#include "common/core/clock.hpp"

namespace kprof::agent {

struct SidecarOptions {
  std::string service_name = "unknown";
  std::map<std::string, std::string> series_labels;  // env, version, namespace, pod, container
  std::vector<std::string> profile_types = {"cpu"};
  uint32_t frequency_hz = 100;
  std::chrono::seconds upload_interval{10};
};

struct SidecarStats {
  uint64_t reconfigurations = 0;  // updates applied
  uint64_t failed_reconfigurations = 0;
  std::string last_reconfigure_error;
  uint64_t cycles = 0;
  uint64_t failed_cycles = 0;
  uint64_t profiles = 0;       // built and handed to exporters
  uint64_t profile_bytes = 0;  // gzipped
  uint64_t unresolved_frames = 0;
  Clock::SteadyTime last_success{};
};

// Makes a checked, not yet started engine that samples as `options` ask (frequency_hz, and
// off-CPU when profile_types has "wall").
using EngineFactory =
    std::function<Result<std::unique_ptr<SamplingEngine>>(const SidecarOptions& options)>;

// A new configuration for a running agent (from the operator's config API).
struct SidecarUpdate {
  SidecarOptions options;
  // Called between cycles only when the sampling frequency or the need for off-CPU sampling
  // differs from the running engine's.
  EngineFactory make_engine;
  // New destinations; nullopt keeps the current exporters.
  std::optional<std::vector<std::unique_ptr<Exporter>>> exporters;
};

class SidecarAgent {
 public:
  SidecarAgent(SidecarOptions options,
               std::unique_ptr<SamplingEngine> engine,
               std::unique_ptr<Symbolizer> symbolizer,
               std::vector<std::unique_ptr<Exporter>> exporters,
               Clock& clock);

  // One upload interval's work for the window [from, until): drain, build, submit.
  Status runCycle(std::chrono::system_clock::time_point from,
                  std::chrono::system_clock::time_point until);

  // Starts the engine and runs cycles until `stop` is requested; then a last cycle, so the
  // seconds before shutdown are not lost, and the exporters get `flush` to send what is queued.
  Status run(std::stop_token stop, std::chrono::milliseconds flush = std::chrono::seconds(5));

  // Thread-safe. run() ends the interval in progress within a second (its profiles are built
  // with the settings they were sampled under) and then applies the update. An update not yet applied is replaced by a newer one
  // (whose exporters, if it has none, are the replaced one's). When the sampling must change and
  // no engine can be made or started, the rest is still applied — labels, interval, exporters —
  // while frequency and profile types stay as they were, and the failure is counted
  // (failed_reconfigurations, last_reconfigure_error). Replaced exporters get run()'s `flush` to
  // send what they hold.
  void reconfigure(SidecarUpdate update);

  // Engines for snapshot captures (a raised rate) before any update brought a factory.
  void setEngineFactory(EngineFactory make_engine);

  // Thread-safe. The snapshot commands of the config now in force (docs/agent-snapshots.md):
  // run() takes them up within a second, starts each new id at once and stops a capture whose
  // command left the list. `on_change` (set before run()) is called from run()'s thread when a
  // capture starts or ends, so the caller can report at once.
  void setSnapshotCommands(std::vector<kprof::snapshot::SnapshotCommand> commands);
  void onSnapshotChange(std::function<void()> on_change);
  std::vector<kprof::snapshot::SnapshotReport> snapshotReports() const;

  SidecarStats stats() const;
  // The running engine's name ("ebpf", "perf_event").
  std::string engineName() const;
  // Cumulative over every engine this agent ran.
  SamplerStats samplerStats() const;
  std::vector<ExportStats> exportStats() const;
  // Healthy when a cycle succeeded within the last three intervals (or none is due yet).
  bool healthy() const;

  // Prometheus families for /metrics: samples, lost samples, missing stacks, uploads, bytes,
  // errors and drops per exporter, cycles.
  std::shared_ptr<prometheus::Collectable> metrics() const;

 private:
  // A capture in progress: the samples of its window, and what to restore afterwards.
  struct Capture {
    kprof::snapshot::SnapshotCommand command;
    std::vector<std::string> types;  // requested and sampled by this engine
    std::chrono::system_clock::time_point started;
    StackAggregator stacks;
    snapshot::RecordedWindow before;
    SidecarOptions restore;  // the regular frequency and types
    std::string notes;       // what could not be done as asked
    bool engine_swapped = false;
  };

  bool updatePending() const;
  // True when run() has to wake: an update it may apply now, or new snapshot commands.
  bool wakeNeeded() const;
  // Drains the engine into the interval's stacks, the flight recorder and the capture.
  Status drainEngine();
  // Builds one profile per type from `stacks` and hands each to every exporter.
  Result<std::vector<kprof::snapshot::ProfileOutcome>> submitProfiles(
      const std::vector<RawStack>& stacks,
      const std::vector<std::string>& types,
      const std::map<std::string, std::string>& labels,
      std::chrono::system_clock::time_point from,
      std::chrono::system_clock::time_point until,
      uint32_t frequency_hz);
  // Ends the interval in progress (so every regular profile has one sampling rate).
  void endInterval(std::chrono::system_clock::time_point& window_start);
  // Takes up new snapshot commands and starts or stops captures; run()'s thread only.
  void runSnapshots(std::chrono::system_clock::time_point& window_start);
  void startCapture(kprof::snapshot::SnapshotCommand command);
  // Uploads the capture and restores the regular sampling; `stopped_early` says why it ended
  // before its duration (empty when it did not).
  void finishCapture(const std::string& stopped_early);
  // Replaces the running engine with a started one, keeping its counters.
  void swapEngine(std::unique_ptr<SamplingEngine> next);
  // Applies a pending update between cycles; run()'s thread only.
  void applyPendingUpdate(std::chrono::milliseconds flush);

  // Written only by run()'s thread, under mutex_; other threads read them under mutex_.
  SidecarOptions options_;
  std::unique_ptr<SamplingEngine> engine_;
  std::unique_ptr<Symbolizer> symbolizer_;
  std::vector<std::unique_ptr<Exporter>> exporters_;
  Clock& clock_;
  Clock::SteadyTime started_;
  mutable std::mutex mutex_;
  SidecarStats stats_;
  SamplerStats retired_sampler_stats_;  // of engines replaced by reconfigure()
  std::optional<SidecarUpdate> pending_;
  EngineFactory make_engine_;  // the latest factory (setEngineFactory or an update's)

  // Snapshots. pending_commands_ and tracker_ under mutex_; the rest run()'s thread only.
  std::optional<std::vector<kprof::snapshot::SnapshotCommand>> pending_commands_;
  snapshot::SnapshotTracker tracker_;
  std::function<void()> on_snapshot_change_;
  snapshot::FlightRecorder recorder_;
  std::optional<Capture> capture_;
  StackAggregator interval_;  // drained since the interval began
  std::chrono::system_clock::time_point last_drain_{};
};

}  // namespace kprof::agent
