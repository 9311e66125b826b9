// SPDX-License-Identifier: GPL-2.0
/* kprof sampler, kernel side: on-CPU samples from a cpu-clock perf event on every CPU and
 * off-CPU spans from sched_switch, aggregated in the kernel by {tgid, stacks} for the targets.
 *
 * Draining without loss: everything is written into one of two generations (count map + stack
 * map), chosen by the low bit of drain_epoch. The loader bumps the epoch, waits until every
 * program that might still be writing the old generation has returned, then reads and clears
 * that generation while new samples land in the other one. A single map with iterate+delete
 * would race: a stack id freed after reading can be handed out again for a different stack
 * while a fresh count still references it. */
/* vmlinux.h must come before the libbpf headers, which use its types. */
// clang-format off
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "profile.h"
// clang-format on

#define EFAULT 14
#define ENOMEM 12
#define EEXIST 17
#define PF_KTHREAD 0x00200000

char LICENSE[] SEC("license") = "GPL";

/* Configuration, fixed at load time. */
const volatile __u32 target_mode = KPROF_TARGET_ALL;
const volatile __u32 target_pidns_inum = 0;
/* The agent's own PID namespace, so reported pids are the ones it sees in /proc; 0 means the
 * initial namespace, where the task's own tgid/pid are already right. */
const volatile __u32 view_pidns_inum = 0;
const volatile bool per_thread = false;
const volatile __u64 sample_period_ns = 10000000;

/* Written by the loader at every drain; see the comment at the top. */
volatile __u32 drain_epoch = 0;

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1024);
  __type(key, __u32);
  __type(value, __u8);
} target_pids SEC(".maps");

struct counts_map {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, struct kprof_sample_key);
  __type(value, struct kprof_sample_value);
};
struct counts_map counts_even SEC(".maps");
struct counts_map counts_odd SEC(".maps");

struct stacks_map {
  __uint(type, BPF_MAP_TYPE_STACK_TRACE);
  __uint(max_entries, 16384);
  __uint(key_size, sizeof(__u32));
  __uint(value_size, KPROF_MAX_STACK_DEPTH * sizeof(__u64));
};
struct stacks_map stacks_even SEC(".maps");
struct stacks_map stacks_odd SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 16384);
  __type(key, __u32);
  __type(value, struct kprof_offcpu_start);
} offcpu_starts SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, KPROF_STAT_COUNT);
  __type(key, __u32);
  __type(value, __u64);
} stats SEC(".maps");

/* Updating a map-in-map from user space returns only after every running BPF program has
 * finished (the kernel's synchronize_rcu in maybe_wait_bpf_programs); the loader uses that as
 * the barrier after bumping drain_epoch. Nothing here reads these two maps. */
struct barrier_slot {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u32);
} barrier_inner SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, 1);
  __type(key, __u32);
  __array(values, struct barrier_slot);
} drain_barrier SEC(".maps") = {
    .values = {&barrier_inner},
};

static __always_inline void count_stat(__u32 stat) {
  __u64* value = bpf_map_lookup_elem(&stats, &stat);
  if (value)
    __sync_fetch_and_add(value, 1);
}

static __always_inline __u32 upid_ns_inum(const struct pid* pid, __u32 level) {
  struct upid upid = {};
  bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]);
  return BPF_CORE_READ(upid.ns, ns.inum);
}

static __always_inline int upid_nr(const struct pid* pid, __u32 level) {
  struct upid upid = {};
  bpf_probe_read_kernel(&upid, sizeof(upid), &pid->numbers[level]);
  return upid.nr;
}

/* The task's tgid and pid as seen from the agent's PID namespace; false when the task is not
 * visible there (it lives in a sibling or parent namespace). */
static __always_inline bool ids_in_view(struct task_struct* task, __u32* tgid, __u32* tid) {
  if (view_pidns_inum == 0) {
    *tgid = BPF_CORE_READ(task, tgid);
    *tid = BPF_CORE_READ(task, pid);
    return true;
  }
  struct pid* thread_pid = BPF_CORE_READ(task, thread_pid);
  struct pid* leader_pid = BPF_CORE_READ(task, group_leader, thread_pid);
  __u32 level = BPF_CORE_READ(thread_pid, level);
  for (__u32 i = 0; i < KPROF_MAX_PIDNS_LEVEL; i++) {
    if (i > level)
      break;
    if (upid_ns_inum(thread_pid, i) != view_pidns_inum)
      continue;
    *tid = upid_nr(thread_pid, i);
    *tgid = upid_nr(leader_pid, i);
    return true;
  }
  return false;
}

static __always_inline bool is_target(struct task_struct* task, __u32 tgid) {
  if (target_mode == KPROF_TARGET_PIDS)
    return bpf_map_lookup_elem(&target_pids, &tgid) != 0;
  if (target_mode == KPROF_TARGET_PIDNS) {
    struct pid* thread_pid = BPF_CORE_READ(task, thread_pid);
    __u32 level = BPF_CORE_READ(thread_pid, level);
    return upid_ns_inum(thread_pid, level) == target_pidns_inum;
  }
  return true;
}

static __always_inline bool is_collision(long err) {
  return err == -EEXIST || err == -ENOMEM;
}

static __always_inline __s32 capture_stack(void* ctx, __u32 epoch, __u64 flags) {
  long id = (epoch & 1) ? bpf_get_stackid(ctx, &stacks_odd, flags)
                        : bpf_get_stackid(ctx, &stacks_even, flags);
  if (is_collision(id))
    count_stat(KPROF_STAT_COLLISIONS);
  return id;
}

/* Captures both stacks of the current task into the epoch's stack map. A kernel thread has no
 * user stack, and a sample taken in user mode has no kernel stack (-EFAULT): neither is
 * missing. */
static __always_inline void capture_stacks(void* ctx,
                                           struct task_struct* task,
                                           __u32 epoch,
                                           bool kernel_stack_expected,
                                           __s32* user_stack_id,
                                           __s32* kernel_stack_id) {
  bool kernel_thread = BPF_CORE_READ(task, flags) & PF_KTHREAD;
  *user_stack_id = kernel_thread ? -EFAULT : capture_stack(ctx, epoch, BPF_F_USER_STACK);
  *kernel_stack_id = capture_stack(ctx, epoch, 0);
  if (*user_stack_id < 0 && !kernel_thread && !is_collision(*user_stack_id))
    count_stat(KPROF_STAT_MISSING_USER);
  if (*kernel_stack_id < 0 && !is_collision(*kernel_stack_id) &&
      (kernel_stack_expected || *kernel_stack_id != -EFAULT))
    count_stat(KPROF_STAT_MISSING_KERNEL);
}

static __always_inline void add_sample(__u32 epoch,
                                       const struct kprof_sample_key* key,
                                       __u64 value_ns) {
  void* counts = (epoch & 1) ? (void*)&counts_odd : (void*)&counts_even;
  struct kprof_sample_value* value = bpf_map_lookup_elem(counts, key);
  if (!value) {
    struct kprof_sample_value zero = {};
    long err = bpf_map_update_elem(counts, key, &zero, BPF_NOEXIST);
    if (err && err != -EEXIST) {
      count_stat(KPROF_STAT_LOST);
      return;
    }
    value = bpf_map_lookup_elem(counts, key);
    if (!value) {
      count_stat(KPROF_STAT_LOST);
      return;
    }
  }
  __sync_fetch_and_add(&value->count, 1);
  __sync_fetch_and_add(&value->value_ns, value_ns);
}

/* Kernel text lives in the upper half of the address space on x86-64 and arm64. */
static __always_inline bool sampled_in_kernel(struct bpf_perf_event_data* ctx) {
  return (long)PT_REGS_IP(&ctx->regs) < 0;
}

SEC("perf_event")
int sample_cpu(struct bpf_perf_event_data* ctx) {
  struct task_struct* task = bpf_get_current_task_btf();
  if (BPF_CORE_READ(task, pid) == 0)
    return 0; /* idle */
  __u32 tgid = 0;
  __u32 tid = 0;
  if (!ids_in_view(task, &tgid, &tid) || tgid == 0 || !is_target(task, tgid))
    return 0;
  count_stat(KPROF_STAT_SAMPLES);

  __u32 epoch = drain_epoch;
  struct kprof_sample_key key = {
      .tgid = tgid,
      .tid = per_thread ? tid : 0,
      .kind = KPROF_KIND_CPU,
      .stack_epoch = epoch,
  };
  capture_stacks(
      ctx, task, epoch, sampled_in_kernel(ctx), &key.user_stack_id, &key.kernel_stack_id);
  add_sample(epoch, &key, sample_period_ns);
  return 0;
}

/* prev stops running: remember when and where, if it is a target. */
static __always_inline void record_switch_out(void* ctx,
                                              struct task_struct* prev,
                                              __u64 now,
                                              __u32 epoch) {
  __u32 global_tid = BPF_CORE_READ(prev, pid);
  if (global_tid == 0 || BPF_CORE_READ(prev, exit_state) != 0)
    return; /* idle, or a task's last switch before it dies */
  __u32 tgid = 0;
  __u32 tid = 0;
  if (!ids_in_view(prev, &tgid, &tid) || tgid == 0 || !is_target(prev, tgid))
    return;
  struct kprof_offcpu_start start = {
      .start_ns = now,
      .tgid = tgid,
      .tid = tid,
      .epoch = epoch,
  };
  /* At this tracepoint prev is still current, so its stacks can be captured. */
  capture_stacks(ctx, prev, epoch, true, &start.user_stack_id, &start.kernel_stack_id);
  if (bpf_map_update_elem(&offcpu_starts, &global_tid, &start, BPF_ANY) != 0)
    count_stat(KPROF_STAT_LOST);
}

/* next runs again: add the time it was off the CPU to the stacks it stopped with. */
static __always_inline void record_switch_in(struct task_struct* next, __u64 now, __u32 epoch) {
  __u32 global_tid = BPF_CORE_READ(next, pid);
  struct kprof_offcpu_start* found = bpf_map_lookup_elem(&offcpu_starts, &global_tid);
  if (!found)
    return;
  struct kprof_offcpu_start start = *found;
  struct kprof_sample_key key = {
      .tgid = start.tgid,
      .tid = per_thread ? start.tid : 0,
      .user_stack_id = start.user_stack_id,
      .kernel_stack_id = start.kernel_stack_id,
      .kind = KPROF_KIND_OFFCPU,
      .stack_epoch = start.epoch,
  };
  count_stat(KPROF_STAT_SAMPLES);
  add_sample(epoch, &key, now > start.start_ns ? now - start.start_ns : 0);
  /* Deleted only after the count is in, so a drain scanning both maps never misses a span
   * whose stacks it must keep. */
  bpf_map_delete_elem(&offcpu_starts, &global_tid);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(sched_switch, bool preempt, struct task_struct* prev, struct task_struct* next) {
  __u64 now = bpf_ktime_get_ns();
  __u32 epoch = drain_epoch;
  record_switch_out(ctx, prev, now, epoch);
  record_switch_in(next, now, epoch);
  return 0;
}
