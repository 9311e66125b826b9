#include <cstdio>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/symbolizer/perf_map.hpp"
#include "agent/symbolizer/test_fixtures.hpp"

namespace kprof::agent {
namespace {

class PerfMapFile : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("kprof-perf-map-test-" + std::to_string(::getpid()) + ".map");
    std::filesystem::remove(path_);
  }
  void TearDown() override { std::filesystem::remove(path_); }
  void append(const std::string& text) {
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out << text;
  }
  std::string nameAt(const PerfMap& map, uint64_t address) {
    const auto match = map.lookup(address);
    return match ? std::string(match->name) : "<none>";
  }
  std::filesystem::path path_;
};

TEST_F(PerfMapFile, MissingFileIsNotFound) {
  PerfMap map("/", path_, 100, 1 << 20);
  const Status status = map.refresh();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(map.lookup(0x1000));
}

TEST_F(PerfMapFile, RereadsWhenTheFileGrowsAndKeepsPartialLinesForLater) {
  append("1000 100 first\n2000 100 sec");
  PerfMap map("/", path_, 100, 1 << 20);
  ASSERT_TRUE(map.refresh());
  EXPECT_EQ(nameAt(map, 0x1010), "first");
  EXPECT_EQ(nameAt(map, 0x2010), "<none>");  // its line is not complete yet
  EXPECT_EQ(map.reloads(), 1u);

  ASSERT_TRUE(map.refresh());  // nothing new
  EXPECT_EQ(map.reloads(), 1u);

  append("ond\n1000 80 first_recompiled\n");
  ASSERT_TRUE(map.refresh());
  EXPECT_EQ(map.reloads(), 2u);
  EXPECT_EQ(nameAt(map, 0x2010), "second");
  EXPECT_EQ(nameAt(map, 0x1010), "first_recompiled");  // later lines win
  EXPECT_EQ(nameAt(map, 0x1090), "<none>");
  EXPECT_EQ(map.size(), 2u);
}

TEST_F(PerfMapFile, StartsOverWhenTheFileIsReplaced) {
  append("1000 100 old_process\n");
  PerfMap map("/", path_, 100, 1 << 20);
  ASSERT_TRUE(map.refresh());
  std::filesystem::remove(path_);
  append("3000 10 new\n");
  ASSERT_TRUE(map.refresh());
  EXPECT_EQ(nameAt(map, 0x1010), "<none>");
  EXPECT_EQ(nameAt(map, 0x3001), "new");
}

TEST_F(PerfMapFile, EntryAndByteCapsBoundMemory) {
  std::string text;
  for (int i = 0; i < 50; ++i) {
    char line[64];
    std::snprintf(line, sizeof(line), "%x 10 f%d\n", 0x1000 + i * 0x10, i);
    text += line;
  }
  append(text);
  PerfMap capped("/", path_, 10, 1 << 20);
  ASSERT_TRUE(capped.refresh());
  EXPECT_EQ(capped.size(), 10u);
  EXPECT_EQ(capped.droppedEntries(), 40u);

  PerfMap shortRead("/", path_, 100, 30);  // "1000 10 f0\n1010 10 f1\n" is 22 bytes
  ASSERT_TRUE(shortRead.refresh());
  EXPECT_EQ(shortRead.size(), 2u);
}

TEST(PerfMapInContainer, SymlinksCannotReachHostFiles) {
  testing::ScratchDir dir;
  const auto hostFile = dir.path() / "host-secret.map";
  testing::writeText(hostFile, "1000 10 host_secret\n");
  const auto root = dir.path() / "root";
  std::filesystem::create_directories(root / "tmp");
  // The container points its perf map at an absolute host path; inside its root that is nothing.
  std::filesystem::create_symlink(hostFile, root / "tmp/perf-7.map");
  PerfMap map(root.string(), "/tmp/perf-7.map", 100, 1 << 20);
  const Status status = map.refresh();
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::NotFound);
  EXPECT_FALSE(map.lookup(0x1001));
}

TEST(PerfMapInContainer, AFifoIsRefusedWithoutBlocking) {
  testing::ScratchDir dir;
  std::filesystem::create_directories(dir.path() / "tmp");
  ASSERT_EQ(::mkfifo((dir.path() / "tmp/perf-7.map").c_str(), 0600), 0);
  PerfMap map(dir.path().string(), "/tmp/perf-7.map", 100, 1 << 20);
  const Status status = map.refresh();  // would hang forever on a blocking open
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().code, ErrorCode::InvalidArgument);
}

}  // namespace
}  // namespace kprof::agent
