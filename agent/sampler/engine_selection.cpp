#include "agent/sampler/engine_selection.hpp"

#include "agent/sampler/ebpf_engine.hpp"
#include "agent/sampler/perf_event_engine.hpp"

namespace kprof::agent {

EngineSelection selectEngine(const SamplerConfig& config) {
  if (Status valid = validateConfig(config); !valid) {
    return {nullptr, "no engine: invalid config: " + valid.error().message};
  }

  std::string bpf_reason = "BPF disabled by config";
  if (config.allow_bpf) {
    auto ebpf = std::make_unique<EbpfEngine>(config);
    Status loaded = ebpf->check();
    if (loaded) {
      std::string reason = "ebpf: loaded; " + ebpf->summary();
      return {std::move(ebpf), std::move(reason)};
    }
    bpf_reason = loaded.error().message;
  }

  auto perf = std::make_unique<PerfEventEngine>(config);
  Status opened = perf->check();
  if (!opened) {
    return {nullptr, "no engine: " + opened.error().message + " (" + bpf_reason + ")"};
  }
  std::string reason = "perf_event fallback: " + bpf_reason + "; " + perf->summary();
  if (config.off_cpu) {
    reason += "; off-CPU (wall) needs BPF and is not collected";
  }
  return {std::move(perf), std::move(reason)};
}

}  // namespace kprof::agent
