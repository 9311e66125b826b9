// The middle of the agent pipeline: raw aggregated stacks from a sampling engine, symbolized per
// process, become pprof profiles — one per process and profile type for an upload interval.
// Per-sample labels (pid, thread) stay inside the profile; series labels (service, env, pod, …)
// travel beside it with the upload and never go into samples.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "agent/sampler/sampling_engine.hpp"
#include "agent/symbolizer/symbolizer.hpp"
#include "common/pprof/profile_builder.hpp"

namespace kprof::agent {

struct AssembledProfile {
  uint32_t pid = 0;          // 0 when profiles of several processes were merged into one
  std::string profile_type;  // "cpu" or "wall"
  pprof::Profile profile;
  uint64_t samples = 0;
};

struct AssembleOptions {
  uint64_t sample_period_ns = 10'000'000;  // 100 Hz
  std::chrono::system_clock::time_point start;
  std::chrono::nanoseconds duration{0};
  bool include_kernel = true;
  bool one_profile_per_process = true;  // false: one profile per type, with a pid label per sample
};

struct AssembleStats {
  uint64_t stacks = 0;
  uint64_t frames = 0;
  uint64_t unresolved_frames = 0;
  uint64_t symbolize_errors = 0;  // processes whose maps could not be read (they exited)
};

// Keeps the stacks the requested profile types need ("cpu", "wall"). The wall profile is time on
// the CPU plus time off it, so with "wall" each cpu stack is also copied in as wall time.
std::vector<RawStack> stacksForTypes(std::vector<RawStack> stacks,
                                     const std::vector<std::string>& types);

// Builds the profiles for one drain of an engine. Processes that exited before symbolization
// still produce a profile: their frames stay unresolved (address only) rather than being lost.
std::vector<AssembledProfile> assembleProfiles(const std::vector<RawStack>& stacks,
                                               Symbolizer& symbolizer,
                                               const AssembleOptions& options,
                                               AssembleStats* stats = nullptr);

}  // namespace kprof::agent
