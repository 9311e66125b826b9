#include "operator/kube/bearer_token.hpp"

#include <filesystem>

#include <gtest/gtest.h>

#include "operator/kube/test_files.hpp"

namespace kprof::kube {
namespace {

using namespace std::chrono_literals;
using testing::ScratchDir;

TEST(BearerTokenTest, StaticTokenAndAnonymous) {
  FakeClock clock;
  auto fixed = BearerTokenSource::open(" abc\n", "", clock);
  ASSERT_TRUE(fixed);
  EXPECT_EQ((*fixed)->current(), "abc");
  auto anonymous = BearerTokenSource::open("", "", clock);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ((*anonymous)->current(), "");
}

TEST(BearerTokenTest, RereadsTheFileWhenItChanges) {
  FakeClock clock;
  ScratchDir dir;
  std::string path = dir.write("token", "first\n");
  auto source = BearerTokenSource::open("", path, clock);
  ASSERT_TRUE(source) << source.error().toString();
  EXPECT_EQ((*source)->current(), "first");

  // A rotation replaces the file (the kubelet swaps a symlinked directory): new inode and size.
  dir.write("token.new", "second-token");
  std::filesystem::rename(dir.file("token.new"), path);
  EXPECT_EQ((*source)->current(), "second-token");
  EXPECT_EQ((*source)->stats().reads, 2u);
  // Unchanged: no re-read.
  EXPECT_EQ((*source)->current(), "second-token");
  EXPECT_EQ((*source)->stats().reads, 2u);
}

TEST(BearerTokenTest, RereadsAtLeastOncePerMaxAgeEvenIfTheFileLooksUnchanged) {
  FakeClock clock;
  ScratchDir dir;
  std::string path = dir.write("token", "aaaa");
  auto source = BearerTokenSource::open("", path, clock, 60s);
  ASSERT_TRUE(source);
  auto stamp = std::filesystem::last_write_time(path);
  // Same size, same inode, same modification time: invisible to the stat check.
  dir.write("token", "bbbb");
  std::filesystem::last_write_time(path, stamp);
  EXPECT_EQ((*source)->current(), "aaaa");
  clock.advance(59s);
  EXPECT_EQ((*source)->current(), "aaaa");
  clock.advance(2s);
  EXPECT_EQ((*source)->current(), "bbbb");
}

TEST(BearerTokenTest, KeepsTheLastGoodTokenWhileTheFileIsBroken) {
  FakeClock clock;
  ScratchDir dir;
  std::string path = dir.write("token", "good");
  auto source = BearerTokenSource::open("", path, clock);
  ASSERT_TRUE(source);
  dir.write("token", "  \n");  // truncated mid-rotation
  EXPECT_EQ((*source)->current(), "good");
  std::filesystem::remove(path);
  EXPECT_EQ((*source)->current(), "good");
  EXPECT_GE((*source)->stats().failed_reads, 2u);
  dir.write("token", "better");
  EXPECT_EQ((*source)->current(), "better");
}

TEST(BearerTokenTest, UnreadableFileFailsAtOpenUnlessAStaticTokenCovers) {
  FakeClock clock;
  ScratchDir dir;
  auto missing = BearerTokenSource::open("", dir.file("nope"), clock);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::NotFound);
  EXPECT_NE(missing.error().message.find(dir.file("nope")), std::string::npos);

  auto empty = BearerTokenSource::open("", dir.write("empty", ""), clock);
  ASSERT_FALSE(empty);

  // kubeconfig token + tokenFile: the static token is the fallback until the file is readable.
  auto covered = BearerTokenSource::open("static", dir.file("later"), clock);
  ASSERT_TRUE(covered);
  EXPECT_EQ((*covered)->current(), "static");
  dir.write("later", "from-file");
  EXPECT_EQ((*covered)->current(), "from-file");
}

}  // namespace
}  // namespace kprof::kube
