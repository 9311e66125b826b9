// Privileged: loads profile.bpf.c into the running kernel and samples real child processes.
// Bounds are loose on purpose: these check behaviour, not timing.
#include "agent/sampler/ebpf_engine.hpp"

#include <sys/wait.h>

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <unistd.h>

#include "agent/sampler/sampler_test_support.hpp"

namespace kprof::agent {
namespace {

using testing::ChildProcess;
using testing::countAll;
using testing::napForever;
using testing::sleepMs;
using testing::spinForever;
using testing::totalCount;
using testing::totalValueNs;

SamplerConfig configFor(TargetSelector targets) {
  SamplerConfig config;
  config.targets = std::move(targets);
  return config;
}

TEST(EbpfEngineTest, SamplesTheTargetPidWithUserStacksAndNothingElse) {
  ChildProcess target = ChildProcess::fork([] { spinForever(); });
  ChildProcess bystander = ChildProcess::fork([] { spinForever(); });
  uint32_t target_pid = static_cast<uint32_t>(target.pid());

  EbpfEngine engine(configFor(TargetSelector::processes({target_pid})));
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  uint64_t cpu_before = testing::onCpuNs(target.pid());
  ASSERT_TRUE(engine.start());
  sleepMs(2000);
  engine.stop();
  uint64_t cpu_ns = testing::onCpuNs(target.pid()) - cpu_before;
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  // 100 Hz for 2 s of a busy process: at most ~200 samples, fewer when the machine is busy, and
  // always about 100 per second of CPU time the child actually got.
  uint64_t samples = totalCount(*stacks, target_pid, ProfileKind::Cpu);
  double expected = testing::expectedSamples(cpu_ns);
  std::cout << "ebpf: " << samples << " samples for pid " << target_pid << " in 2 s at 100 Hz; "
            << cpu_ns / 1'000'000 << " ms on CPU → " << expected << " expected\n";
  EXPECT_GE(samples, 10u);
  EXPECT_LE(samples, 400u);
  EXPECT_GE(static_cast<double>(samples), expected * 0.5 - 5);
  EXPECT_LE(static_cast<double>(samples), expected * 1.5 + 10);

  auto text = testing::ownTextRanges();
  uint64_t with_user_stack = 0;
  uint64_t leaf_in_test_binary = 0;
  for (const RawStack& stack : *stacks) {
    EXPECT_EQ(stack.pid, target_pid) << "a process that is not a target was sampled";
    EXPECT_EQ(stack.kind, ProfileKind::Cpu);
    EXPECT_FALSE(stack.tid.has_value());
    EXPECT_EQ(stack.value_ns, stack.count * 10'000'000u);
    if (!stack.user_ips.empty()) {
      with_user_stack += stack.count;
      leaf_in_test_binary += testing::inRanges(stack.user_ips.front(), text) ? stack.count : 0;
    }
  }
  EXPECT_GE(with_user_stack * 10, samples * 9) << "most samples should carry a user stack";
  EXPECT_GE(leaf_in_test_binary * 10, samples * 9) << "the leaf should be the spin loop";
  EXPECT_EQ(totalCount(*stacks, static_cast<uint32_t>(bystander.pid()), ProfileKind::Cpu), 0u);
}

TEST(EbpfEngineTest, PidNamespaceTargetSamplesOnlyThatNamespace) {
  ChildProcess contained = ChildProcess::forkInNewPidNamespace([] { spinForever(); });
  if (!contained.started()) {
    GTEST_SKIP() << "needs CAP_SYS_ADMIN to create a PID namespace (run as root)";
  }
  ChildProcess outside = ChildProcess::fork([] { spinForever(); });
  Result<uint64_t> pidns = readPidNamespaceInode("/proc", std::to_string(contained.pid()));
  ASSERT_TRUE(pidns) << pidns.error().toString();

  EbpfEngine engine(configFor(TargetSelector::pidNamespace(*pidns)));
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  ASSERT_TRUE(engine.start());
  sleepMs(1500);
  engine.stop();
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  // Reported with the pid the agent sees, not 1 (its pid inside the namespace).
  uint32_t contained_pid = static_cast<uint32_t>(contained.pid());
  EXPECT_GE(totalCount(*stacks, contained_pid, ProfileKind::Cpu), 10u);
  for (const RawStack& stack : *stacks) {
    EXPECT_EQ(stack.pid, contained_pid);
  }
}

TEST(EbpfEngineTest, DrainingTwiceGivesDisjointCountsAndLosesNothing) {
  ChildProcess target = ChildProcess::fork([] { spinForever(); });
  uint32_t pid = static_cast<uint32_t>(target.pid());
  EbpfEngine engine(configFor(TargetSelector::processes({pid})));
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  ASSERT_TRUE(engine.start());

  sleepMs(1000);
  Result<std::vector<RawStack>> first = engine.drain();
  sleepMs(1000);
  Result<std::vector<RawStack>> second = engine.drain();
  engine.stop();
  Result<std::vector<RawStack>> rest = engine.drain();
  ASSERT_TRUE(first && second && rest);

  uint64_t first_count = countAll(*first);
  uint64_t second_count = countAll(*second);
  std::cout << "ebpf drains: " << first_count << " + " << second_count << " + " << countAll(*rest)
            << " samples\n";
  // Each drain holds at most about one second of samples (fewer on a busy machine), not a
  // running total.
  EXPECT_GE(first_count, 1u);
  EXPECT_LE(first_count, 200u);
  EXPECT_GE(second_count, 1u);
  EXPECT_LE(second_count, 200u);

  // Every sample the kernel counted arrived in exactly one drain.
  SamplerStats stats = engine.stats();
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_EQ(stats.drains, 3u);
  EXPECT_EQ(first_count + second_count + countAll(*rest), stats.samples - stats.lost);
  EXPECT_TRUE(engine.drain()->empty());
}

TEST(EbpfEngineTest, WallEngineMeasuresOffCpuTimeOfASleepingChild) {
  ChildProcess sleeper = ChildProcess::fork([] { napForever(); });
  ChildProcess spinner = ChildProcess::fork([] { spinForever(); });
  uint32_t sleeper_pid = static_cast<uint32_t>(sleeper.pid());
  uint32_t spinner_pid = static_cast<uint32_t>(spinner.pid());

  SamplerConfig config = configFor(TargetSelector::processes({sleeper_pid, spinner_pid}));
  config.off_cpu = true;
  EbpfEngine engine(config);
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  ASSERT_TRUE(engine.start());
  sleepMs(2000);
  engine.stop();
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  // The sleeper spent nearly all of the 2 s blocked in nanosleep.
  uint64_t blocked_ns = totalValueNs(*stacks, sleeper_pid, ProfileKind::OffCpu);
  std::cout << "ebpf off-CPU: sleeper blocked " << blocked_ns / 1'000'000 << " ms of 2000 ms, "
            << totalCount(*stacks, sleeper_pid, ProfileKind::OffCpu) << " spans\n";
  EXPECT_GE(blocked_ns, 1'200'000'000u);
  EXPECT_LE(blocked_ns, 2'500'000'000u);
  EXPECT_LE(totalCount(*stacks, sleeper_pid, ProfileKind::Cpu), 20u);
  for (const RawStack& stack : *stacks) {
    if (stack.pid == sleeper_pid && stack.kind == ProfileKind::OffCpu && stack.count >= 5) {
      EXPECT_FALSE(stack.user_ips.empty());
      EXPECT_FALSE(stack.kernel_ips.empty()) << "blocked in the kernel: kernel stack expected";
    }
  }
  // The spinner runs: cpu samples. (Its off-CPU time is runqueue wait, which depends on how
  // busy the machine is.)
  EXPECT_GE(totalCount(*stacks, spinner_pid, ProfileKind::Cpu), 10u);
}

TEST(EbpfEngineTest, OffCpuSpanAcrossDrainsKeepsItsStacks) {
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  // The child blocks in read() until the parent writes, then blocks again.
  ChildProcess reader = ChildProcess::fork([&] {
    close(go[1]);
    char byte = 0;
    while (read(go[0], &byte, 1) > 0) {
    }
    spinForever();
  });
  close(go[0]);
  uint32_t pid = static_cast<uint32_t>(reader.pid());

  SamplerConfig config = configFor(TargetSelector::processes({pid}));
  config.cpu = false;
  config.off_cpu = true;
  EbpfEngine engine(config);
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  ASSERT_TRUE(engine.start());

  // Wake the child once so its next block starts while the engine runs.
  ASSERT_EQ(write(go[1], "x", 1), 1);
  sleepMs(300);
  Result<std::vector<RawStack>> before = engine.drain();  // span still open: not here
  sleepMs(300);
  Result<std::vector<RawStack>> middle = engine.drain();  // two drains later, still open
  sleepMs(300);
  ASSERT_EQ(write(go[1], "x", 1), 1);  // ends the span
  sleepMs(100);
  Result<std::vector<RawStack>> after = engine.drain();
  engine.stop();
  close(go[1]);
  ASSERT_TRUE(before && middle && after);

  EXPECT_LT(totalValueNs(*middle, pid, ProfileKind::OffCpu), 100'000'000u);
  const RawStack* longest = nullptr;
  for (const RawStack& stack : *after) {
    if (stack.pid == pid && stack.kind == ProfileKind::OffCpu &&
        (longest == nullptr || stack.value_ns > longest->value_ns)) {
      longest = &stack;
    }
  }
  ASSERT_NE(longest, nullptr) << "the span that ended after two drains is missing";
  EXPECT_GE(longest->value_ns, 800'000'000u);
  EXPECT_FALSE(longest->user_ips.empty()) << "stacks captured two drains ago were not kept";
  EXPECT_FALSE(longest->kernel_ips.empty());
  EXPECT_EQ(engine.stats().missing_user_stacks, 0u);
}

TEST(EbpfEngineTest, FullMapsAreCountedAsCollisionsAndLostSamples) {
  ChildProcess target = ChildProcess::fork([] { testing::spinInTwoFunctions(); });
  uint32_t pid = static_cast<uint32_t>(target.pid());
  SamplerConfig config = configFor(TargetSelector::processes({pid}));
  config.max_stacks = 1;  // one bucket: a second distinct stack collides
  config.max_counts = 1;  // one key: a second distinct key is lost
  EbpfEngine engine(config);
  Status loaded = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(loaded);
  ASSERT_TRUE(loaded) << loaded.error().toString();
  ASSERT_TRUE(engine.start());
  sleepMs(1500);
  engine.stop();
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  SamplerStats stats = engine.stats();
  std::cout << "ebpf with full maps: " << stats.samples << " samples, "
            << stats.stack_map_collisions << " stack collisions, " << stats.lost << " lost\n";
  EXPECT_GT(stats.stack_map_collisions, 0u);
  EXPECT_GT(stats.lost, 0u);
  EXPECT_LE(stacks->size(), 1u);
  EXPECT_EQ(countAll(*stacks), stats.samples - stats.lost);
}

// What an agent inside a PID namespace reports, sent back to the test through a pipe.
struct NamespacedAgentReport {
  int outcome = 0;  // 0 ran, 1 no privilege, 2 error
  uint32_t target_pid = 0;
  uint64_t target_samples = 0;
  uint64_t stacks_of_other_pids = 0;
  uint64_t all_mode_invisible_pids = 0;  // pids in "all" mode that the namespace cannot see
  char message[200] = {};
};

// The agent runs as pid 1 of a new PID namespace (as in a pod with a shared namespace) and
// profiles pid 2 of that namespace: pids must be the namespace's, not the host's.
NamespacedAgentReport runAgentInNewPidNamespace(int report_fd) {
  NamespacedAgentReport report;
  auto finish = [&](int outcome, const std::string& message) {
    report.outcome = outcome;
    message.copy(report.message, sizeof(report.message) - 1);
    [[maybe_unused]] ssize_t written = write(report_fd, &report, sizeof(report));
  };
  ChildProcess target = ChildProcess::fork([] { spinForever(); });
  report.target_pid = static_cast<uint32_t>(target.pid());  // 2, as seen from here
  EbpfEngine by_pid(configFor(TargetSelector::processes({report.target_pid})));
  EbpfEngine everything(configFor(TargetSelector::all()));
  for (EbpfEngine* engine : {&by_pid, &everything}) {
    Status started = engine->start();
    if (!started) {
      finish(started.error().code == ErrorCode::PermissionDenied ? 1 : 2,
             started.error().toString());
      return report;
    }
  }
  sleepMs(1500);
  by_pid.stop();
  everything.stop();
  Result<std::vector<RawStack>> targeted = by_pid.drain();
  Result<std::vector<RawStack>> all = everything.drain();
  if (!targeted || !all) {
    finish(2, "drain failed");
    return report;
  }
  report.target_samples = totalCount(*targeted, report.target_pid, ProfileKind::Cpu);
  for (const RawStack& stack : *targeted) {
    report.stacks_of_other_pids += stack.pid != report.target_pid ? 1 : 0;
  }
  for (const RawStack& stack : *all) {
    report.all_mode_invisible_pids += stack.pid > report.target_pid ? 1 : 0;
  }
  finish(0, "");
  return report;
}

TEST(EbpfEngineTest, ReportsPidsAsSeenFromTheAgentsOwnPidNamespace) {
  int reports[2];
  ASSERT_EQ(pipe(reports), 0);
  // fork, unshare, fork: the grandchild is pid 1 of the new namespace, and a normal fork() child.
  ChildProcess parent_of_agent = ChildProcess::fork([&] {
    if (unshare(CLONE_NEWPID) != 0) {
      NamespacedAgentReport report;
      report.outcome = 1;
      std::string("unshare(CLONE_NEWPID) failed").copy(report.message, 100);
      [[maybe_unused]] ssize_t written = write(reports[1], &report, sizeof(report));
      _exit(0);
    }
    pid_t agent = ::fork();
    if (agent == 0) {
      runAgentInNewPidNamespace(reports[1]);
      _exit(0);
    }
    waitpid(agent, nullptr, 0);
  });
  close(reports[1]);
  NamespacedAgentReport report;
  ASSERT_EQ(read(reports[0], &report, sizeof(report)), static_cast<ssize_t>(sizeof(report)));
  close(reports[0]);

  if (report.outcome == 1) {
    GTEST_SKIP() << "needs CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN (run as root): " << report.message;
  }
  ASSERT_EQ(report.outcome, 0) << report.message;
  std::cout << "ebpf in a PID namespace: " << report.target_samples << " samples for pid "
            << report.target_pid << "\n";
  EXPECT_EQ(report.target_pid, 2u);
  EXPECT_GE(report.target_samples, 10u) << "pid 2 of the namespace was not sampled";
  EXPECT_EQ(report.stacks_of_other_pids, 0u);
  EXPECT_EQ(report.all_mode_invisible_pids, 0u)
      << "\"all\" from inside a namespace must only report processes visible there";
}

}  // namespace
}  // namespace kprof::agent
