#include "agent/symbolizer/proc_maps.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(ParseProcMaps, ReadsEveryFieldOfAFileMapping) {
  const auto maps = parseProcMaps(
      "7f9176873000-7f91769c9000 r-xp 00026000 fe:00 332835                     "
      "/usr/lib/x86_64-linux-gnu/libc.so.6\n");
  ASSERT_EQ(maps.mappings.size(), 1u);
  EXPECT_EQ(maps.malformedLines, 0u);
  const Mapping& m = maps.mappings[0];
  EXPECT_EQ(m.start, 0x7f9176873000u);
  EXPECT_EQ(m.end, 0x7f91769c9000u);
  EXPECT_TRUE(m.readable);
  EXPECT_FALSE(m.writable);
  EXPECT_TRUE(m.executable);
  EXPECT_FALSE(m.shared);
  EXPECT_EQ(m.fileOffset, 0x26000u);
  EXPECT_EQ(m.deviceMajor, 0xfeu);
  EXPECT_EQ(m.deviceMinor, 0u);
  EXPECT_EQ(m.inode, 332835u);
  EXPECT_EQ(m.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
  EXPECT_FALSE(m.deleted);
  EXPECT_TRUE(m.isFile());
  EXPECT_FALSE(m.isAnonymous());
}

TEST(ParseProcMaps, PseudoRegionsAndAnonymousMappings) {
  const auto maps = parseProcMaps(
      "55d0c8a00000-55d0c8a21000 rw-p 00000000 00:00 0                          [heap]\n"
      "7f0000000000-7f0000100000 rwxp 00000000 00:00 0 \n"
      "7f0000200000-7f0000300000 r-xp 00000000 00:00 0                          [anon:v8 code]\n"
      "7f0000400000-7f0000500000 r-xs 00000000 00:01 1234                       /memfd:jit "
      "(deleted)\n"
      "7ffd1a5f0000-7ffd1a611000 rw-p 00000000 00:00 0                          [stack]\n"
      "7ffd1a7d2000-7ffd1a7d4000 r-xp 00000000 00:00 0                          [vdso]\n"
      "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");
  ASSERT_EQ(maps.mappings.size(), 7u);
  EXPECT_EQ(maps.malformedLines, 0u);
  const Mapping& heap = maps.mappings[0];
  EXPECT_EQ(heap.path, "[heap]");
  EXPECT_FALSE(heap.isFile());
  EXPECT_FALSE(heap.isAnonymous());
  const Mapping& anonymous = maps.mappings[1];
  EXPECT_EQ(anonymous.path, "");
  EXPECT_TRUE(anonymous.isAnonymous());
  EXPECT_TRUE(anonymous.writable && anonymous.executable);
  EXPECT_EQ(maps.mappings[2].path, "[anon:v8 code]");
  EXPECT_TRUE(maps.mappings[2].isAnonymous());
  const Mapping& memfd = maps.mappings[3];
  EXPECT_TRUE(memfd.shared);
  EXPECT_TRUE(memfd.deleted);
  EXPECT_EQ(memfd.path, "/memfd:jit");
  EXPECT_TRUE(memfd.isAnonymous());
  EXPECT_FALSE(memfd.isFile());
  EXPECT_EQ(maps.mappings[4].path, "[stack]");
  EXPECT_TRUE(maps.mappings[5].isVdso());
  EXPECT_EQ(maps.mappings[6].start, 0xffffffffff600000u);
  EXPECT_EQ(maps.mappings[6].path, "[vsyscall]");
}

TEST(ParseProcMaps, DeletedFilesAndPathsWithSpaces) {
  const auto maps = parseProcMaps(
      "400000-401000 r-xp 00000000 08:01 42 /opt/my app/bin/server (deleted)\n"
      "401000-402000 r-xp 00001000 08:01 43 /opt/my app/lib/lib two.so\n"
      "402000-403000 r-xp 00002000 08:01 44 /srv/ends with space \n");
  ASSERT_EQ(maps.mappings.size(), 3u);
  EXPECT_EQ(maps.mappings[0].path, "/opt/my app/bin/server");
  EXPECT_TRUE(maps.mappings[0].deleted);
  EXPECT_EQ(maps.mappings[1].path, "/opt/my app/lib/lib two.so");
  EXPECT_FALSE(maps.mappings[1].deleted);
  EXPECT_EQ(maps.mappings[2].path, "/srv/ends with space ");
}

TEST(ParseProcMaps, MalformedLinesAreSkippedAndCounted) {
  const auto maps = parseProcMaps(
      "garbage\n"
      "400000-401000 r-xp 00000000 08:01 42 /bin/ok\n"
      "401000 r-xp 00000000 08:01 42 /bin/no-dash\n"
      "402000-401000 r-xp 00000000 08:01 42 /bin/end-before-start\n"
      "403000-404000 rwzp 00000000 08:01 42 /bin/bad-perms\n"
      "404000-405000 r-xp 0000zz00 08:01 42 /bin/bad-offset\n"
      "405000-406000 r-xp 00000000 0801 42 /bin/bad-device\n"
      "406000-407000 r-xp 00000000 08:01 4x2 /bin/bad-inode\n"
      "407000-408000 r-xp 00000000 08:01\n"
      "fffffffffffffffff-1 r-xp 00000000 08:01 42 /bin/overflow\n"
      "\n"
      "408000-409000 r-xp 00000000 08:01 42 /bin/also-ok");  // no final newline
  EXPECT_EQ(maps.malformedLines, 9u);
  ASSERT_EQ(maps.mappings.size(), 2u);
  EXPECT_EQ(maps.mappings[0].path, "/bin/ok");
  EXPECT_EQ(maps.mappings[1].path, "/bin/also-ok");
}

TEST(ParseProcMaps, EmptyTextAndCarriageReturns) {
  EXPECT_TRUE(parseProcMaps("").mappings.empty());
  const auto maps = parseProcMaps("400000-401000 r-xp 00000000 08:01 42 /bin/x\r\n");
  ASSERT_EQ(maps.mappings.size(), 1u);
  EXPECT_EQ(maps.mappings[0].path, "/bin/x");
}

TEST(ParseProcMaps, SortsOutOfOrderLinesSoLookupsWork) {
  const auto maps = parseProcMaps(
      "500000-501000 r-xp 00000000 08:01 2 /b\n"
      "400000-401000 r-xp 00000000 08:01 1 /a\n");
  ASSERT_EQ(maps.mappings.size(), 2u);
  EXPECT_EQ(maps.mappings[0].path, "/a");
  EXPECT_EQ(findMapping(maps.mappings, 0x500fff)->path, "/b");
}

TEST(FindMapping, ReturnsTheMappingContainingTheAddressOrNothing) {
  const auto maps = parseProcMaps(
      "400000-401000 r-xp 00000000 08:01 1 /a\n"
      "402000-403000 r-xp 00000000 08:01 2 /b\n");
  EXPECT_EQ(findMapping(maps.mappings, 0x3fffff), nullptr);
  EXPECT_EQ(findMapping(maps.mappings, 0x400000)->path, "/a");
  EXPECT_EQ(findMapping(maps.mappings, 0x400fff)->path, "/a");
  EXPECT_EQ(findMapping(maps.mappings, 0x401000), nullptr);  // the gap
  EXPECT_EQ(findMapping(maps.mappings, 0x402800)->path, "/b");
  EXPECT_EQ(findMapping(maps.mappings, 0x403000), nullptr);
  EXPECT_EQ(findMapping({}, 0x400000), nullptr);
}

}  // namespace
}  // namespace kprof::agent
