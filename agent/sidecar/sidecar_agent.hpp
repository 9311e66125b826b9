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
  bool updatePending() const;
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
};

}  // namespace kprof::agent
