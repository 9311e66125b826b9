#include "agent/sampler/target_selector.hpp"

#include <filesystem>

#include <gtest/gtest.h>
#include <unistd.h>

namespace kprof::agent {
namespace {

TEST(TargetSelectorTest, AllMatchesEverything) {
  TargetSelector all = TargetSelector::all();
  EXPECT_TRUE(all.matches(1, std::nullopt));
  EXPECT_TRUE(all.matches(4242, 123));
  EXPECT_EQ(all.describe(), "all processes");
}

TEST(TargetSelectorTest, PidsMatchOnlyListedProcesses) {
  TargetSelector pids = TargetSelector::processes({12, 40});
  EXPECT_TRUE(pids.matches(12, std::nullopt));
  EXPECT_TRUE(pids.matches(40, 7));
  EXPECT_FALSE(pids.matches(13, std::nullopt));
  EXPECT_EQ(pids.describe(), "pids 12,40");
  EXPECT_EQ(TargetSelector::processes({5}).describe(), "pid 5");
}

TEST(TargetSelectorTest, PidNamespaceMatchesOnTheNamespaceInode) {
  TargetSelector ns = TargetSelector::pidNamespace(4026532201);
  EXPECT_TRUE(ns.matches(1, 4026532201));
  EXPECT_FALSE(ns.matches(1, 4026531836));
  EXPECT_FALSE(ns.matches(1, std::nullopt));  // process gone: not a target
  EXPECT_EQ(ns.describe(), "pid namespace 4026532201");
}

TEST(ParseNamespaceLinkTest, ReadsTheInode) {
  EXPECT_EQ(parseNamespaceLink("pid:[4026531836]"), 4026531836u);
  EXPECT_EQ(parseNamespaceLink("net:[4026531836]"), std::nullopt);
  EXPECT_EQ(parseNamespaceLink("pid:[]"), std::nullopt);
  EXPECT_EQ(parseNamespaceLink("pid:[12x]"), std::nullopt);
  EXPECT_EQ(parseNamespaceLink("pid:[12"), std::nullopt);
}

class PidNamespaceProcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::temp_directory_path() /
            ("kprof_sampler_proc_" + std::to_string(getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void addProcess(const std::string& pid, const std::string& link_text) {
    std::filesystem::create_directories(root_ / pid / "ns");
    std::filesystem::create_symlink(link_text, root_ / pid / "ns" / "pid");
  }

  std::filesystem::path root_;
};

TEST_F(PidNamespaceProcTest, ReadsPidNamespaceThroughTheProcRootParameter) {
  addProcess("42", "pid:[4026532201]");
  Result<uint64_t> inode = readPidNamespaceInode(root_, "42");
  ASSERT_TRUE(inode) << inode.error().toString();
  EXPECT_EQ(*inode, 4026532201u);

  Result<uint64_t> missing = readPidNamespaceInode(root_, "43");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);

  addProcess("44", "garbage");
  Result<uint64_t> garbage = readPidNamespaceInode(root_, "44");
  ASSERT_FALSE(garbage);
  EXPECT_EQ(garbage.error().code, ErrorCode::Parse);
}

TEST_F(PidNamespaceProcTest, CacheReadsEachProcessOnceUntilCleared) {
  addProcess("42", "pid:[100]");
  PidNamespaceCache cache(root_);
  EXPECT_EQ(cache.lookup(42), 100u);
  EXPECT_EQ(cache.lookup(43), std::nullopt);

  // The pid is reused by a process in another namespace: stale until cleared.
  std::filesystem::remove_all(root_ / "42");
  addProcess("42", "pid:[200]");
  EXPECT_EQ(cache.lookup(42), 100u);
  cache.clear();
  EXPECT_EQ(cache.lookup(42), 200u);
}

TEST(ReadPidNamespaceInodeTest, ReadsOwnNamespaceFromRealProc) {
  Result<uint64_t> inode = readPidNamespaceInode("/proc", "self");
  ASSERT_TRUE(inode) << inode.error().toString();
  EXPECT_GT(*inode, 0u);
}

}  // namespace
}  // namespace kprof::agent
