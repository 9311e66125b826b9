#include "agent/sampler/stack_aggregator.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

RawStack cpuSample(uint32_t pid, std::vector<uint64_t> user, std::vector<uint64_t> kernel = {}) {
  return RawStack{
      pid, std::nullopt, std::move(user), std::move(kernel), 1, 10'000'000, ProfileKind::Cpu};
}

TEST(StackAggregatorTest, MergesIdenticalStacksOfOneProcess) {
  StackAggregator aggregator;
  EXPECT_TRUE(aggregator.add(cpuSample(7, {0x10, 0x20})));
  EXPECT_TRUE(aggregator.add(cpuSample(7, {0x10, 0x20})));
  EXPECT_TRUE(aggregator.add(cpuSample(7, {0x10, 0x30})));

  std::vector<RawStack> stacks = aggregator.take();
  ASSERT_EQ(stacks.size(), 2u);
  EXPECT_EQ(stacks[0].user_ips, (std::vector<uint64_t>{0x10, 0x20}));
  EXPECT_EQ(stacks[0].count, 2u);
  EXPECT_EQ(stacks[0].value_ns, 20'000'000u);
  EXPECT_EQ(stacks[1].user_ips, (std::vector<uint64_t>{0x10, 0x30}));
  EXPECT_EQ(stacks[1].count, 1u);
}

TEST(StackAggregatorTest, KeepsProcessesThreadsKindsAndKernelStacksApart) {
  StackAggregator aggregator;
  aggregator.add(cpuSample(7, {0x10}));
  aggregator.add(cpuSample(8, {0x10}));
  aggregator.add(cpuSample(7, {0x10}, {0xffffffff81000000}));
  RawStack threaded = cpuSample(7, {0x10});
  threaded.tid = 9;
  aggregator.add(threaded);
  RawStack offcpu = cpuSample(7, {0x10});
  offcpu.kind = ProfileKind::OffCpu;
  offcpu.value_ns = 5;
  aggregator.add(offcpu);

  EXPECT_EQ(aggregator.size(), 5u);
  std::vector<RawStack> stacks = aggregator.take();
  ASSERT_EQ(stacks.size(), 5u);
  EXPECT_EQ(stacks.back().pid, 8u);  // ordered by pid first
}

TEST(StackAggregatorTest, TakeEmptiesSoDrainsAreDisjoint) {
  StackAggregator aggregator;
  aggregator.add(cpuSample(7, {0x10}));
  EXPECT_EQ(aggregator.take().size(), 1u);
  EXPECT_TRUE(aggregator.take().empty());
  aggregator.add(cpuSample(7, {0x10}));
  std::vector<RawStack> second = aggregator.take();
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].count, 1u);
}

TEST(StackAggregatorTest, RefusesNewStacksWhenFullButStillCountsKnownOnes) {
  StackAggregator aggregator(/*max_stacks=*/1);
  EXPECT_TRUE(aggregator.add(cpuSample(7, {0x10})));
  EXPECT_FALSE(aggregator.add(cpuSample(7, {0x20})));
  EXPECT_TRUE(aggregator.add(cpuSample(7, {0x10})));
  std::vector<RawStack> stacks = aggregator.take();
  ASSERT_EQ(stacks.size(), 1u);
  EXPECT_EQ(stacks[0].count, 2u);
}

}  // namespace
}  // namespace kprof::agent
