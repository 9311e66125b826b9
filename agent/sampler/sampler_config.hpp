// What to sample and how; shared by every engine.
#pragma once

#include <cstdint>
#include <filesystem>

#include "agent/sampler/target_selector.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct SamplerConfig {
  TargetSelector targets;
  uint32_t frequency_hz = 100;  // cpu-clock samples per second of CPU time, per thread
  bool cpu = true;              // the cpu profile
  bool off_cpu = false;         // off-CPU time for the wall profile (eBPF engine only)
  bool per_thread = false;      // key stacks by thread as well as process
  bool allow_bpf = true;        // false forces the perf_event engine

  // Capacity of the in-kernel maps (per drain generation) and of the fallback's aggregation:
  // distinct stacks between two drains, and threads off the CPU at once.
  uint32_t max_stacks = 16384;
  uint32_t max_counts = 16384;
  uint32_t max_offcpu_threads = 16384;
  uint32_t perf_ring_pages = 16;  // data pages per perf_event ring buffer, a power of two

  std::filesystem::path proc_root = "/proc";
  std::filesystem::path online_cpus_file = "/sys/devices/system/cpu/online";
};

// Rejects configurations no engine can run.
Status validateConfig(const SamplerConfig& config);

// Nanoseconds of CPU time one cpu-clock sample stands for.
inline uint64_t samplePeriodNs(const SamplerConfig& config) {
  return 1'000'000'000ULL / config.frequency_hz;
}

}  // namespace kprof::agent
