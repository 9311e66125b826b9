// The seam between the sampler and the rest of the agent: an engine samples the targets and
// hands back raw aggregated stacks (addresses only; symbolizing is the next stage's job).
// Shaped like async-profiler's Engine: check, start, stop, plus drain for the upload loop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"

namespace kprof::agent {

enum class ProfileKind : uint8_t {
  Cpu,     // on-CPU samples from a cpu-clock event
  OffCpu,  // time blocked or waiting to run, for the wall profile
};

std::string_view profileKindName(ProfileKind kind);

// One distinct stack of one process with what it accumulated since the previous drain.
struct RawStack {
  uint32_t pid = 0;                  // tgid, as seen from the agent's PID namespace
  std::optional<uint32_t> tid;       // set only with SamplerConfig::per_thread
  std::vector<uint64_t> user_ips;    // leaf first
  std::vector<uint64_t> kernel_ips;  // leaf first
  uint64_t count = 0;                // cpu samples, or completed off-CPU spans
  uint64_t value_ns = 0;             // cpu time, or time off the CPU
  ProfileKind kind = ProfileKind::Cpu;

  bool operator==(const RawStack&) const = default;
};

// Cumulative since the engine started. Each counter names one way samples go missing.
struct SamplerStats {
  uint64_t samples = 0;                // target samples seen by the engine
  uint64_t lost = 0;                   // samples dropped: map or ring buffer full
  uint64_t missing_user_stacks = 0;    // a user stack was expected but could not be read
  uint64_t missing_kernel_stacks = 0;  // a kernel stack was expected but could not be read
  uint64_t stack_map_collisions = 0;   // bpf_get_stackid: -EEXIST (hash clash) or -ENOMEM (full)
  uint64_t drains = 0;
};

class SamplingEngine {
 public:
  virtual ~SamplingEngine() = default;

  // "ebpf" or "perf_event".
  virtual std::string_view name() const = 0;
  // Prepares everything that can fail for lack of privilege or kernel support (loading BPF,
  // opening perf events) without sampling yet. Safe to call more than once.
  virtual Status check() = 0;
  // Starts sampling; runs check() first if it has not succeeded yet.
  virtual Status start() = 0;
  // Stops sampling; what was sampled stays available to drain(). Idempotent.
  virtual void stop() = 0;
  // Everything aggregated since the previous drain, each sample in exactly one drain. Called
  // from one thread at a time.
  virtual Result<std::vector<RawStack>> drain() = 0;
  virtual SamplerStats stats() const = 0;
  // What runs, for logs: "cpu-clock at 100 Hz on 2 CPUs; targets: pids 12".
  virtual std::string summary() const = 0;
};

}  // namespace kprof::agent
