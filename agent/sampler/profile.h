/* Layout shared by profile.bpf.c and its loader (ebpf_engine.cpp): the one definition of the map
 * keys, values and indexes. Plain C with kernel integer types; the includer provides __u32/__u64
 * (vmlinux.h in BPF, <linux/types.h> in user space). */
#ifndef KPROF_AGENT_SAMPLER_PROFILE_H
#define KPROF_AGENT_SAMPLER_PROFILE_H

/* Frames kept per stack (the kernel's default perf_event_max_stack). */
#define KPROF_MAX_STACK_DEPTH 127
/* Deepest PID namespace nesting the kernel allows (MAX_PID_NS_LEVEL). */
#define KPROF_MAX_PIDNS_LEVEL 32

enum kprof_target_mode {
  KPROF_TARGET_ALL = 0,
  KPROF_TARGET_PIDS = 1,  /* tgids listed in the target_pids map */
  KPROF_TARGET_PIDNS = 2, /* every task whose active PID namespace is target_pidns_inum */
};

enum kprof_sample_kind {
  KPROF_KIND_CPU = 0,
  KPROF_KIND_OFFCPU = 1,
};

/* Indexes into the per-CPU stats array. */
enum kprof_stat {
  KPROF_STAT_SAMPLES = 0,      /* target samples seen: cpu-clock ticks + completed off-CPU spans */
  KPROF_STAT_LOST = 1,         /* samples that could not be recorded (a map was full) */
  KPROF_STAT_MISSING_USER = 2, /* user stack expected but not captured */
  KPROF_STAT_MISSING_KERNEL = 3, /* kernel stack expected but not captured */
  KPROF_STAT_COLLISIONS = 4,     /* bpf_get_stackid returned -EEXIST or -ENOMEM */
  KPROF_STAT_COUNT = 5,
};

/* Aggregation key of the count maps. Stack ids index the stack map of generation
 * (stack_epoch & 1); stack_epoch differs from the current epoch only for off-CPU spans that
 * began before a drain and ended after it. */
struct kprof_sample_key {
  __u32 tgid; /* as seen from the agent's PID namespace */
  __u32 tid;  /* 0 unless per-thread keys are configured */
  __s32 user_stack_id;
  __s32 kernel_stack_id;
  __u32 kind;
  __u32 stack_epoch;
};

struct kprof_sample_value {
  __u64 count;    /* cpu-clock samples, or completed off-CPU spans */
  __u64 value_ns; /* cpu time, or blocked time */
};

/* A target thread that is switched out: when and where it stopped running. Keyed by the
 * thread's pid in the initial namespace, which is unique machine-wide. */
struct kprof_offcpu_start {
  __u64 start_ns;
  __u32 tgid;
  __u32 tid;
  __s32 user_stack_id;
  __s32 kernel_stack_id;
  __u32 epoch; /* drain epoch whose stack map holds the ids */
  __u32 reserved;
};

#endif /* KPROF_AGENT_SAMPLER_PROFILE_H */
