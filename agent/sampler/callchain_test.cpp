#include "agent/sampler/callchain.hpp"

#include <linux/perf_event.h>

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

constexpr uint64_t kKernel = static_cast<uint64_t>(PERF_CONTEXT_KERNEL);
constexpr uint64_t kUser = static_cast<uint64_t>(PERF_CONTEXT_USER);
constexpr uint64_t kGuest = static_cast<uint64_t>(PERF_CONTEXT_GUEST);

TEST(SplitCallchainTest, SplitsKernelThenUserAtMarkers) {
  std::vector<uint64_t> chain = {
      kKernel, 0xffffffff81000010, 0xffffffff81000020, kUser, 0x401000, 0x402000};
  SplitCallchain split = splitCallchain(chain);
  EXPECT_EQ(split.kernel_ips, (std::vector<uint64_t>{0xffffffff81000010, 0xffffffff81000020}));
  EXPECT_EQ(split.user_ips, (std::vector<uint64_t>{0x401000, 0x402000}));
}

TEST(SplitCallchainTest, UserOnlyChain) {
  std::vector<uint64_t> chain = {kUser, 0x401000, 0x7f0000001000};
  SplitCallchain split = splitCallchain(chain);
  EXPECT_TRUE(split.kernel_ips.empty());
  EXPECT_EQ(split.user_ips, (std::vector<uint64_t>{0x401000, 0x7f0000001000}));
}

TEST(SplitCallchainTest, DropsGuestFramesAndKeepsLeafOrder) {
  std::vector<uint64_t> chain = {kKernel, 0xffffffff81000010, kGuest, 0x1234, kUser, 0x401000};
  SplitCallchain split = splitCallchain(chain);
  EXPECT_EQ(split.kernel_ips, (std::vector<uint64_t>{0xffffffff81000010}));
  EXPECT_EQ(split.user_ips, (std::vector<uint64_t>{0x401000}));
}

TEST(SplitCallchainTest, FramesBeforeAnyMarkerAreClassifiedByAddress) {
  std::vector<uint64_t> chain = {0xffffffff81000010, 0x401000};
  SplitCallchain split = splitCallchain(chain);
  EXPECT_EQ(split.kernel_ips, (std::vector<uint64_t>{0xffffffff81000010}));
  EXPECT_EQ(split.user_ips, (std::vector<uint64_t>{0x401000}));
}

TEST(SplitCallchainTest, EmptyChain) {
  EXPECT_EQ(splitCallchain({}), SplitCallchain{});
}

}  // namespace
}  // namespace kprof::agent
