// The agent loop the sidecar (and `kprof agent` on a host) runs: every upload interval, drain the
// sampling engine, symbolize and build one pprof per profile type for the service, and hand each
// to every exporter. A failed cycle is counted and logged and the loop goes on.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
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
  uint64_t cycles = 0;
  uint64_t failed_cycles = 0;
  uint64_t profiles = 0;       // built and handed to exporters
  uint64_t profile_bytes = 0;  // gzipped
  uint64_t unresolved_frames = 0;
  Clock::SteadyTime last_success{};
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

  SidecarStats stats() const;
  SamplerStats samplerStats() const { return engine_->stats(); }
  std::vector<ExportStats> exportStats() const;
  // Healthy when a cycle succeeded within the last three intervals (or none is due yet).
  bool healthy() const;

  // Prometheus families for /metrics: samples, lost samples, missing stacks, uploads, bytes,
  // errors and drops per exporter, cycles.
  std::shared_ptr<prometheus::Collectable> metrics() const;

 private:
  SidecarOptions options_;
  std::unique_ptr<SamplingEngine> engine_;
  std::unique_ptr<Symbolizer> symbolizer_;
  std::vector<std::unique_ptr<Exporter>> exporters_;
  Clock& clock_;
  Clock::SteadyTime started_;
  mutable std::mutex mutex_;
  SidecarStats stats_;
};

}  // namespace kprof::agent
