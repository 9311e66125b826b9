#include "agent/sampler/perf_event.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(ParseCpuListTest, RangesAndSingles) {
  EXPECT_EQ(parseCpuList("0"), (std::vector<int>{0}));
  EXPECT_EQ(parseCpuList("0-3\n"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parseCpuList("0-1,4,6-7"), (std::vector<int>{0, 1, 4, 6, 7}));
}

TEST(ParseCpuListTest, RejectsMalformedLists) {
  EXPECT_EQ(parseCpuList(""), std::nullopt);
  EXPECT_EQ(parseCpuList("3-1"), std::nullopt);
  EXPECT_EQ(parseCpuList("a"), std::nullopt);
  EXPECT_EQ(parseCpuList("1,,2"), std::nullopt);
  EXPECT_EQ(parseCpuList("1-"), std::nullopt);
  EXPECT_EQ(parseCpuList("-1"), std::nullopt);
}

TEST(ReadOnlineCpusTest, ReadsThisMachine) {
  Result<std::vector<int>> cpus = readOnlineCpus("/sys/devices/system/cpu/online");
  ASSERT_TRUE(cpus) << cpus.error().toString();
  EXPECT_FALSE(cpus->empty());
}

TEST(ReadOnlineCpusTest, MissingFileIsAnError) {
  EXPECT_FALSE(readOnlineCpus("/nonexistent/kprof/online"));
}

}  // namespace
}  // namespace kprof::agent
