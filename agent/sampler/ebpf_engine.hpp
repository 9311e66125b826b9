// The eBPF engine: profile.bpf.c aggregates {tgid, stacks} → count in the kernel, from a
// cpu-clock perf event on every online CPU (cpu) and from sched_switch (off-CPU, for wall);
// drain() reads one generation of maps while the kernel fills the other.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "agent/sampler/sampler_config.hpp"
#include "agent/sampler/sampling_engine.hpp"
#include "common/core/unique_fd.hpp"

struct profile_bpf;
struct bpf_link;

namespace kprof::agent {

class EbpfEngine final : public SamplingEngine {
 public:
  explicit EbpfEngine(SamplerConfig config);
  ~EbpfEngine() override;

  std::string_view name() const override { return "ebpf"; }
  // Opens and loads the BPF object with this config; failing here means BPF is unavailable
  // (no privilege, no BTF, verifier rejection).
  Status check() override;
  Status start() override;
  void stop() override;
  Result<std::vector<RawStack>> drain() override;
  SamplerStats stats() const override;
  std::string summary() const override;

 private:
  struct SkeletonDeleter {
    void operator()(profile_bpf* skeleton) const;
  };
  struct LinkDeleter {
    void operator()(bpf_link* link) const;
  };
  using Skeleton = std::unique_ptr<profile_bpf, SkeletonDeleter>;
  using Link = std::unique_ptr<bpf_link, LinkDeleter>;
  // A stack id as written in a count key: which epoch's stack map, which slot.
  using StackRef = std::pair<uint32_t, int32_t>;

  Status load();
  Status attachCpuSampling();
  // Returns once no BPF program can still be writing the generation of the previous epoch.
  Status waitForRunningPrograms();
  int countsFd(uint32_t epoch) const;
  int stacksFd(uint32_t epoch) const;
  std::vector<uint64_t> readStack(int stacks_fd, int32_t id) const;
  // The stacks of a key drained at `drained`; empty when the id is an error or unknown.
  std::vector<uint64_t> resolveStack(uint32_t stack_epoch, int32_t id, uint32_t drained);
  // Copies the stacks that off-CPU spans still in flight will reference once the drained
  // generation's stack map is cleared, and forgets those no longer referenced.
  Status carryOffCpuStacks(uint32_t drained);

  SamplerConfig config_;
  Skeleton skeleton_;
  std::vector<Link> links_;
  std::vector<int> cpus_;  // online CPUs, one cpu-clock event each
  uint32_t epoch_ = 0;
  // Read by stats() from any thread.
  std::atomic<uint64_t> drains_{0};
  std::atomic<uint64_t> unresolved_user_stacks_{0};
  std::atomic<uint64_t> unresolved_kernel_stacks_{0};
  std::map<StackRef, std::vector<uint64_t>> carried_stacks_;
};

}  // namespace kprof::agent
