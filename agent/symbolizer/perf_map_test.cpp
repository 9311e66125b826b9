#include "agent/symbolizer/perf_map.hpp"

#include <gtest/gtest.h>

namespace kprof::agent {
namespace {

TEST(ParsePerfMap, ReadsNodeStyleLinesWithSpacesInNames) {
  const auto parsed = parsePerfMap(
      "3ef414a0a0c0 1c0 LazyCompile:~hotFunction /app/main.js:3\n"
      "0x7f0000001000 0x20 Builtin:ArgumentsAdaptorTrampoline\n"
      "not a line\n"
      "zz 10 bad_start\n"
      "1000 10\n"
      "\n"
      "2000 10 last_without_newline");
  ASSERT_EQ(parsed.entries.size(), 3u);
  EXPECT_EQ(parsed.malformedLines, 3u);
  EXPECT_EQ(parsed.entries[0].start, 0x3ef414a0a0c0u);
  EXPECT_EQ(parsed.entries[0].size, 0x1c0u);
  EXPECT_EQ(parsed.entries[0].name, "LazyCompile:~hotFunction /app/main.js:3");
  EXPECT_EQ(parsed.entries[1].start, 0x7f0000001000u);
  EXPECT_EQ(parsed.entries[2].name, "last_without_newline");
}

}  // namespace
}  // namespace kprof::agent
