// Picks the best engine this machine allows: eBPF, else perf_event, else none — and says why,
// so the agent can log which engine runs.
#pragma once

#include <memory>
#include <string>

#include "agent/sampler/sampler_config.hpp"
#include "agent/sampler/sampling_engine.hpp"

namespace kprof::agent {

struct EngineSelection {
  std::unique_ptr<SamplingEngine> engine;  // checked and ready to start; null when none can run
  // "ebpf: loaded; cpu-clock at 100 Hz on 2 CPUs; targets: pid 12"
  // "perf_event fallback: BPF load failed: Operation not permitted; cpu-clock at ..."
  // "no engine: perf_event_open: Permission denied (BPF load failed: Operation not permitted)"
  std::string reason;
};

EngineSelection selectEngine(const SamplerConfig& config);

}  // namespace kprof::agent
