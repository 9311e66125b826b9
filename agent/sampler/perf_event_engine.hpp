// The fallback engine: perf_event cpu-clock sampling with callchains, read from mmap rings on a
// background thread and aggregated in user space. Runs where BPF cannot load but
// perf_event_open works; it has no off-CPU profile.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/sampler/perf_event.hpp"
#include "agent/sampler/perf_ring.hpp"
#include "agent/sampler/sampler_config.hpp"
#include "agent/sampler/sampling_engine.hpp"
#include "agent/sampler/stack_aggregator.hpp"
#include "common/core/unique_fd.hpp"

namespace kprof::agent {

class PerfEventEngine final : public SamplingEngine {
 public:
  explicit PerfEventEngine(SamplerConfig config);
  ~PerfEventEngine() override;

  std::string_view name() const override { return "perf_event"; }
  // Opens (disabled) one event per target thread and online CPU — inherited by threads created
  // later — for pid targets, or one per online CPU otherwise, with one ring per CPU. Without the
  // privilege for kernel samples it falls back to user-only callchains.
  Status check() override;
  Status start() override;
  void stop() override;
  Result<std::vector<RawStack>> drain() override;
  SamplerStats stats() const override;
  std::string summary() const override;

 private:
  // Events whose output goes to another event's ring on the same CPU keep only their fd.
  struct OpenEvents {
    std::vector<PerfRing> rings;
    std::vector<UniqueFd> redirected;
  };
  Result<OpenEvents> openEvents(bool include_kernel) const;
  Result<std::vector<CpuClockEvent>> plannedEvents(bool include_kernel) const;
  std::vector<int> eventFds() const;
  void readLoop();
  // Reads every ring into the aggregator. Caller holds mutex_.
  void consumeRingsLocked();
  void handleRecordLocked(std::span<const std::byte> record);

  SamplerConfig config_;
  bool checked_ = false;
  bool kernel_callchains_ = true;
  std::vector<PerfRing> rings_;
  std::vector<UniqueFd> redirected_;
  UniqueFd wakeup_;  // eventfd that ends readLoop's poll()
  std::thread reader_;
  std::atomic<bool> running_{false};

  mutable std::mutex mutex_;  // guards everything below and the rings' read positions
  StackAggregator aggregator_;
  PidNamespaceCache pidns_cache_;
  SamplerStats stats_;
};

}  // namespace kprof::agent
