// Privileged: the perf_event fallback engine sampling real child processes.
#include "agent/sampler/perf_event_engine.hpp"

#include <gtest/gtest.h>

#include "agent/sampler/sampler_test_support.hpp"

namespace kprof::agent {
namespace {

using testing::ChildProcess;
using testing::countAll;
using testing::sleepMs;
using testing::spinForever;
using testing::totalCount;

TEST(PerfEventEngineTest, YieldsUserCallchainsForTheTargetPidOnly) {
  ChildProcess target = ChildProcess::fork([] { spinForever(); });
  ChildProcess bystander = ChildProcess::fork([] { spinForever(); });
  uint32_t target_pid = static_cast<uint32_t>(target.pid());

  SamplerConfig config;
  config.targets = TargetSelector::processes({target_pid});
  config.allow_bpf = false;
  PerfEventEngine engine(config);
  Status opened = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(opened);
  ASSERT_TRUE(opened) << opened.error().toString();
  uint64_t cpu_before = testing::onCpuNs(target.pid());
  ASSERT_TRUE(engine.start());
  sleepMs(2000);
  engine.stop();
  uint64_t cpu_ns = testing::onCpuNs(target.pid()) - cpu_before;
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  // About 100 samples per second of CPU time the child got (at most 2 s of it).
  uint64_t samples = totalCount(*stacks, target_pid, ProfileKind::Cpu);
  double expected = testing::expectedSamples(cpu_ns);
  std::cout << "perf_event: " << samples << " samples for pid " << target_pid
            << " in 2 s at 100 Hz; " << cpu_ns / 1'000'000 << " ms on CPU → " << expected
            << " expected (" << engine.summary() << ")\n";
  EXPECT_GE(samples, 10u);
  EXPECT_LE(samples, 400u);
  EXPECT_GE(static_cast<double>(samples), expected * 0.5 - 5);
  EXPECT_LE(static_cast<double>(samples), expected * 1.5 + 10);

  auto text = testing::ownTextRanges();
  uint64_t leaf_in_test_binary = 0;
  for (const RawStack& stack : *stacks) {
    EXPECT_EQ(stack.pid, target_pid);
    ASSERT_FALSE(stack.user_ips.empty()) << "every sample of a user process has a user callchain";
    leaf_in_test_binary += testing::inRanges(stack.user_ips.front(), text) ? stack.count : 0;
  }
  EXPECT_GE(leaf_in_test_binary * 10, samples * 9) << "the leaf should be the spin loop";
  EXPECT_EQ(totalCount(*stacks, static_cast<uint32_t>(bystander.pid()), ProfileKind::Cpu), 0u);
  EXPECT_EQ(engine.stats().lost, 0u);
}

TEST(PerfEventEngineTest, PerCpuEventsFilterByPidNamespace) {
  ChildProcess contained = ChildProcess::forkInNewPidNamespace([] { spinForever(); });
  if (!contained.started()) {
    GTEST_SKIP() << "needs CAP_SYS_ADMIN to create a PID namespace (run as root)";
  }
  ChildProcess outside = ChildProcess::fork([] { spinForever(); });
  Result<uint64_t> pidns = readPidNamespaceInode("/proc", std::to_string(contained.pid()));
  ASSERT_TRUE(pidns) << pidns.error().toString();

  SamplerConfig config;
  config.targets = TargetSelector::pidNamespace(*pidns);
  config.allow_bpf = false;
  PerfEventEngine engine(config);
  Status opened = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(opened);
  ASSERT_TRUE(opened) << opened.error().toString();
  ASSERT_TRUE(engine.start());
  sleepMs(1500);
  engine.stop();
  Result<std::vector<RawStack>> stacks = engine.drain();
  ASSERT_TRUE(stacks) << stacks.error().toString();

  uint32_t contained_pid = static_cast<uint32_t>(contained.pid());
  EXPECT_GE(totalCount(*stacks, contained_pid, ProfileKind::Cpu), 10u);
  for (const RawStack& stack : *stacks) {
    EXPECT_EQ(stack.pid, contained_pid);
  }
}

TEST(PerfEventEngineTest, DrainsAreDisjointAndAccountForEverySample) {
  ChildProcess target = ChildProcess::fork([] { spinForever(); });
  SamplerConfig config;
  config.targets = TargetSelector::processes({static_cast<uint32_t>(target.pid())});
  config.per_thread = true;
  PerfEventEngine engine(config);
  Status opened = engine.check();
  KPROF_SKIP_WITHOUT_PRIVILEGE(opened);
  ASSERT_TRUE(opened) << opened.error().toString();
  ASSERT_TRUE(engine.start());

  sleepMs(1000);
  Result<std::vector<RawStack>> first = engine.drain();
  sleepMs(1000);
  engine.stop();
  Result<std::vector<RawStack>> second = engine.drain();
  ASSERT_TRUE(first && second);

  EXPECT_GE(countAll(*first), 1u);
  EXPECT_GE(countAll(*second), 1u);
  SamplerStats stats = engine.stats();
  EXPECT_EQ(countAll(*first) + countAll(*second), stats.samples - stats.lost);
  EXPECT_EQ(stats.drains, 2u);
  for (const RawStack& stack : *first) {
    EXPECT_EQ(stack.tid, std::optional<uint32_t>(static_cast<uint32_t>(target.pid())));
  }
}

TEST(PerfEventEngineTest, OffCpuAloneIsNotSomethingItCanDo) {
  SamplerConfig config;
  config.cpu = false;
  config.off_cpu = true;
  PerfEventEngine engine(config);
  Status opened = engine.check();
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::Unavailable);
}

}  // namespace
}  // namespace kprof::agent
