#include "agent/sampler/ebpf_engine.hpp"

#include <algorithm>
#include <cerrno>
#include <string>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>

// The generated skeleton embeds the BPF object as one long string literal.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverlength-strings"
#include "agent/sampler/bpf/profile.skel.h"
#pragma GCC diagnostic pop

#include "common/core/os_error.hpp"
#include "agent/sampler/perf_event.hpp"
#include "agent/sampler/profile.h"
#include "agent/sampler/stack_aggregator.hpp"

namespace kprof::agent {

namespace {

uint32_t targetModeOf(TargetSelector::Mode mode) {
  switch (mode) {
    case TargetSelector::Mode::All:
      return KPROF_TARGET_ALL;
    case TargetSelector::Mode::Pids:
      return KPROF_TARGET_PIDS;
    case TargetSelector::Mode::PidNamespace:
      return KPROF_TARGET_PIDNS;
  }
  return KPROF_TARGET_ALL;
}

// Reads every entry of a BPF hash map in batches, which stay correct while BPF programs insert
// and delete concurrently (unlike get_next_key, which restarts when its cursor is deleted).
// With and_delete the entries read are removed in the same call; only for maps no program
// writes any more.
template <typename Key, typename Value>
Result<std::vector<std::pair<Key, Value>>> readHashMap(int fd, bool and_delete) {
  std::vector<std::pair<Key, Value>> entries;
  uint32_t batch_size = 1024;
  std::vector<Key> keys(batch_size);
  std::vector<Value> values(batch_size);
  uint32_t cursor = 0;  // hash maps use a bucket index as the batch token
  bool first = true;
  bpf_map_batch_opts opts{};
  opts.sz = sizeof(opts);
  while (true) {
    uint32_t count = batch_size;
    int err =
        and_delete
            ? bpf_map_lookup_and_delete_batch(
                  fd, first ? nullptr : &cursor, &cursor, keys.data(), values.data(), &count, &opts)
            : bpf_map_lookup_batch(fd,
                                   first ? nullptr : &cursor,
                                   &cursor,
                                   keys.data(),
                                   values.data(),
                                   &count,
                                   &opts);
    if (err == -ENOSPC) {
      // One bucket holds more entries than fit in a batch: retry it with room to spare.
      batch_size *= 2;
      keys.resize(batch_size);
      values.resize(batch_size);
      continue;
    }
    for (uint32_t i = 0; i < count; ++i) {
      entries.emplace_back(keys[i], values[i]);
    }
    if (err == -ENOENT) {
      return entries;  // no more buckets
    }
    if (err != 0) {
      return errnoError(err, "reading BPF map");
    }
    first = false;
  }
}

}  // namespace

void EbpfEngine::SkeletonDeleter::operator()(profile_bpf* skeleton) const {
  profile_bpf__destroy(skeleton);
}

void EbpfEngine::LinkDeleter::operator()(bpf_link* link) const {
  bpf_link__destroy(link);
}

EbpfEngine::EbpfEngine(SamplerConfig config) : config_(std::move(config)) {}

EbpfEngine::~EbpfEngine() {
  // Links before the skeleton: programs detach before their maps go away.
  links_.clear();
  skeleton_.reset();
}

Status EbpfEngine::check() {
  if (skeleton_) {
    return ok();
  }
  return load();
}

Status EbpfEngine::load() {
  KPROF_TRY(validateConfig(config_));
  Result<uint64_t> view_pidns = readPidNamespaceInode(config_.proc_root, "self");
  if (!view_pidns) {
    return view_pidns.error().wrap("finding the agent's PID namespace");
  }

  Result<std::vector<int>> cpus = readOnlineCpus(config_.online_cpus_file);
  if (!cpus) {
    return cpus.error();
  }

  Skeleton skeleton(profile_bpf__open());
  if (!skeleton) {
    return errnoError(errno, "BPF open failed");
  }
  auto* rodata = skeleton->rodata;
  rodata->target_mode = targetModeOf(config_.targets.mode);
  rodata->target_pidns_inum = static_cast<uint32_t>(config_.targets.pidns_inode);
  rodata->view_pidns_inum =
      *view_pidns == kInitialPidNamespaceInode ? 0 : static_cast<uint32_t>(*view_pidns);
  rodata->per_thread = config_.per_thread;
  rodata->sample_period_ns = samplePeriodNs(config_);

  auto& maps = skeleton->maps;
  uint32_t pid_slots = std::max<uint32_t>(1, static_cast<uint32_t>(config_.targets.pids.size()));
  uint32_t offcpu_slots = config_.off_cpu ? config_.max_offcpu_threads : 1;
  bpf_map__set_max_entries(maps.target_pids, pid_slots);
  bpf_map__set_max_entries(maps.counts_even, config_.max_counts);
  bpf_map__set_max_entries(maps.counts_odd, config_.max_counts);
  bpf_map__set_max_entries(maps.stacks_even, config_.max_stacks);
  bpf_map__set_max_entries(maps.stacks_odd, config_.max_stacks);
  bpf_map__set_max_entries(maps.offcpu_starts, offcpu_slots);
  bpf_program__set_autoload(skeleton->progs.sample_cpu, config_.cpu);
  bpf_program__set_autoload(skeleton->progs.sched_switch, config_.off_cpu);

  if (int err = profile_bpf__load(skeleton.get()); err != 0) {
    return errnoError(err, "BPF load failed");
  }
  for (uint32_t pid : config_.targets.pids) {
    uint8_t present = 1;
    int err = bpf_map__update_elem(
        maps.target_pids, &pid, sizeof(pid), &present, sizeof(present), BPF_ANY);
    if (err != 0) {
      return errnoError(err, "adding target pid " + std::to_string(pid));
    }
  }
  skeleton_ = std::move(skeleton);
  cpus_ = std::move(*cpus);
  return ok();
}

Status EbpfEngine::attachCpuSampling() {
  for (int cpu : cpus_) {
    CpuClockEvent event;
    event.cpu = cpu;
    event.period_ns = samplePeriodNs(config_);
    Result<UniqueFd> fd = openCpuClockEvent(event);
    if (!fd) {
      return fd.error().wrap("cpu " + std::to_string(cpu));
    }
    bpf_link* link = bpf_program__attach_perf_event(skeleton_->progs.sample_cpu, fd->get());
    if (link == nullptr) {
      return errnoError(errno, "attaching BPF to the perf event of cpu " + std::to_string(cpu));
    }
    fd->release();  // libbpf's perf link closes the event fd when it is destroyed
    links_.emplace_back(link);
  }
  return ok();
}

Status EbpfEngine::start() {
  KPROF_TRY(check());
  if (!links_.empty()) {
    return ok();
  }
  if (config_.cpu) {
    if (Status attached = attachCpuSampling(); !attached) {
      links_.clear();
      return attached;
    }
  }
  if (config_.off_cpu) {
    bpf_link* link = bpf_program__attach(skeleton_->progs.sched_switch);
    if (link == nullptr) {
      Error error = errnoError(errno, "attaching BPF to sched_switch");
      links_.clear();
      return error;
    }
    links_.emplace_back(link);
  }
  return ok();
}

void EbpfEngine::stop() {
  links_.clear();
}

Status EbpfEngine::waitForRunningPrograms() {
  uint32_t slot = 0;
  int inner = bpf_map__fd(skeleton_->maps.barrier_inner);
  int err = bpf_map_update_elem(bpf_map__fd(skeleton_->maps.drain_barrier), &slot, &inner, BPF_ANY);
  if (err != 0) {
    return errnoError(err, "waiting for running BPF programs");
  }
  return ok();
}

int EbpfEngine::countsFd(uint32_t epoch) const {
  return bpf_map__fd((epoch & 1) ? skeleton_->maps.counts_odd : skeleton_->maps.counts_even);
}

int EbpfEngine::stacksFd(uint32_t epoch) const {
  return bpf_map__fd((epoch & 1) ? skeleton_->maps.stacks_odd : skeleton_->maps.stacks_even);
}

std::vector<uint64_t> EbpfEngine::readStack(int stacks_fd, int32_t id) const {
  std::vector<uint64_t> ips(KPROF_MAX_STACK_DEPTH, 0);
  if (id < 0 || bpf_map_lookup_elem(stacks_fd, &id, ips.data()) != 0) {
    return {};
  }
  // The kernel zero-fills the frames past the end of the stack.
  auto end = std::find(ips.begin(), ips.end(), 0);
  ips.erase(end, ips.end());
  return ips;
}

std::vector<uint64_t> EbpfEngine::resolveStack(uint32_t stack_epoch, int32_t id, uint32_t drained) {
  if (id < 0) {
    return {};
  }
  if (stack_epoch == drained) {
    return readStack(stacksFd(drained), id);
  }
  auto carried = carried_stacks_.find({stack_epoch, id});
  return carried == carried_stacks_.end() ? std::vector<uint64_t>{} : carried->second;
}

Status EbpfEngine::carryOffCpuStacks(uint32_t drained) {
  // An off-CPU span records its stack ids when the thread switches out and is counted when it
  // switches back in, possibly several drains later, in whatever generation is then active.
  // Its stacks must outlive the clearing of the map they were captured into, so they are
  // copied here. Spans that ended after the epoch flip are already in the active count map;
  // the kernel writes that count before deleting the start, so scanning starts first and
  // counts second sees every span.
  std::map<StackRef, std::vector<uint64_t>> kept;
  int drained_stacks = stacksFd(drained);
  auto keep = [&](uint32_t stack_epoch, int32_t id) {
    StackRef ref{stack_epoch, id};
    if (id < 0 || kept.contains(ref)) {
      return;
    }
    if (stack_epoch == drained) {
      kept.emplace(ref, readStack(drained_stacks, id));
    } else if (auto carried = carried_stacks_.find(ref); carried != carried_stacks_.end()) {
      kept.emplace(ref, std::move(carried->second));
    }
  };

  auto starts = readHashMap<uint32_t, kprof_offcpu_start>(
      bpf_map__fd(skeleton_->maps.offcpu_starts), /*and_delete=*/false);
  if (!starts) {
    return starts.error();
  }
  for (const auto& [tid, start] : *starts) {
    keep(start.epoch, start.user_stack_id);
    keep(start.epoch, start.kernel_stack_id);
  }
  auto active_counts =
      readHashMap<kprof_sample_key, kprof_sample_value>(countsFd(epoch_), /*and_delete=*/false);
  if (!active_counts) {
    return active_counts.error();
  }
  for (const auto& [key, value] : *active_counts) {
    if (key.stack_epoch != epoch_) {
      keep(key.stack_epoch, key.user_stack_id);
      keep(key.stack_epoch, key.kernel_stack_id);
    }
  }
  carried_stacks_ = std::move(kept);
  return ok();
}

Result<std::vector<RawStack>> EbpfEngine::drain() {
  if (!skeleton_) {
    return fail(ErrorCode::Unavailable, "eBPF engine is not loaded");
  }
  // Flip: new samples go to the other generation; once running programs have finished, the
  // drained generation is ours alone.
  const uint32_t drained = epoch_;
  epoch_ = drained + 1;
  __atomic_store_n(&skeleton_->bss->drain_epoch, epoch_, __ATOMIC_SEQ_CST);
  KPROF_TRY(waitForRunningPrograms());

  auto counts = readHashMap<kprof_sample_key, kprof_sample_value>(countsFd(drained),
                                                                  /*and_delete=*/true);
  if (!counts) {
    return counts.error();
  }
  StackAggregator merged;
  for (const auto& [key, value] : *counts) {
    RawStack stack;
    stack.pid = key.tgid;
    stack.tid = config_.per_thread ? std::optional<uint32_t>(key.tid) : std::nullopt;
    stack.kind = key.kind == KPROF_KIND_OFFCPU ? ProfileKind::OffCpu : ProfileKind::Cpu;
    stack.count = value.count;
    stack.value_ns = value.value_ns;
    stack.user_ips = resolveStack(key.stack_epoch, key.user_stack_id, drained);
    stack.kernel_ips = resolveStack(key.stack_epoch, key.kernel_stack_id, drained);
    if (key.user_stack_id >= 0 && stack.user_ips.empty()) {
      ++unresolved_user_stacks_;
    }
    if (key.kernel_stack_id >= 0 && stack.kernel_ips.empty()) {
      ++unresolved_kernel_stacks_;
    }
    merged.add(std::move(stack));
  }
  if (config_.off_cpu) {
    KPROF_TRY(carryOffCpuStacks(drained));
  }

  // Free every stack id of the drained generation so its map starts empty next time. Ids are
  // collected first: deleting the cursor would restart get_next_key from the beginning.
  int stacks = stacksFd(drained);
  std::vector<uint32_t> ids;
  uint32_t next = 0;
  const uint32_t* cursor = nullptr;
  while (bpf_map_get_next_key(stacks, cursor, &next) == 0) {
    ids.push_back(next);
    cursor = &ids.back();
  }
  for (uint32_t stale : ids) {
    bpf_map_delete_elem(stacks, &stale);
  }
  ++drains_;
  return merged.take();
}

SamplerStats EbpfEngine::stats() const {
  SamplerStats stats;
  stats.drains = drains_.load();
  stats.missing_user_stacks = unresolved_user_stacks_.load();
  stats.missing_kernel_stacks = unresolved_kernel_stacks_.load();
  if (!skeleton_) {
    return stats;
  }
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) {
    return stats;
  }
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus));
  auto total = [&](uint32_t index) {
    std::fill(per_cpu.begin(), per_cpu.end(), 0);
    if (bpf_map_lookup_elem(bpf_map__fd(skeleton_->maps.stats), &index, per_cpu.data()) != 0) {
      return uint64_t{0};
    }
    uint64_t sum = 0;
    for (uint64_t value : per_cpu) {
      sum += value;
    }
    return sum;
  };
  stats.samples = total(KPROF_STAT_SAMPLES);
  stats.lost = total(KPROF_STAT_LOST);
  stats.missing_user_stacks += total(KPROF_STAT_MISSING_USER);
  stats.missing_kernel_stacks += total(KPROF_STAT_MISSING_KERNEL);
  stats.stack_map_collisions = total(KPROF_STAT_COLLISIONS);
  return stats;
}

std::string EbpfEngine::summary() const {
  std::string text;
  if (config_.cpu) {
    text = "cpu-clock at " + std::to_string(config_.frequency_hz) + " Hz on " +
           std::to_string(cpus_.size()) + " CPUs";
  }
  if (config_.off_cpu) {
    text += text.empty() ? "" : ", ";
    text += "off-CPU from sched_switch";
  }
  return text + "; targets: " + config_.targets.describe();
}

}  // namespace kprof::agent
