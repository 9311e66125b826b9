#include "agent/sampler/sampler_config.hpp"

#include <string>

namespace kprof::agent {

Status validateConfig(const SamplerConfig& config) {
  if (config.frequency_hz == 0 || config.frequency_hz > 10'000) {
    return fail(
        ErrorCode::InvalidArgument,
        "sampling frequency must be 1..10000 Hz, got " + std::to_string(config.frequency_hz));
  }
  if (!config.cpu && !config.off_cpu) {
    return fail(ErrorCode::InvalidArgument, "nothing to sample: enable cpu or off-CPU");
  }
  if (config.targets.mode == TargetSelector::Mode::Pids && config.targets.pids.empty()) {
    return fail(ErrorCode::InvalidArgument, "pid targets given but the pid set is empty");
  }
  if (config.targets.mode == TargetSelector::Mode::PidNamespace &&
      config.targets.pidns_inode == 0) {
    return fail(ErrorCode::InvalidArgument, "pid namespace target without a namespace inode");
  }
  if (config.max_stacks == 0 || config.max_counts == 0 || config.max_offcpu_threads == 0) {
    return fail(ErrorCode::InvalidArgument, "map capacities must be positive");
  }
  uint32_t pages = config.perf_ring_pages;
  if (pages == 0 || (pages & (pages - 1)) != 0) {
    return fail(ErrorCode::InvalidArgument,
                "perf_ring_pages must be a power of two, got " + std::to_string(pages));
  }
  return ok();
}

}  // namespace kprof::agent
