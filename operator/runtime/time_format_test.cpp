#include "operator/runtime/time_format.hpp"

#include <gtest/gtest.h>

namespace kprof::runtime {
namespace {

using namespace std::chrono_literals;

const Clock::WallTime kNov14 = Clock::WallTime{1'700'000'000s};

TEST(TimeFormat, WritesSecondsAndMicroTimeInUtc) {
  EXPECT_EQ(formatTime(kNov14), "2023-11-14T22:13:20Z");
  EXPECT_EQ(formatMicroTime(kNov14), "2023-11-14T22:13:20.000000Z");
  EXPECT_EQ(formatMicroTime(kNov14 + 123456789ns), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(formatTime(kNov14 + 999ms), "2023-11-14T22:13:20Z");  // truncated, not rounded
}

TEST(TimeFormat, ParsesWhatKubernetesWrites) {
  struct Case {
    const char* text;
    Clock::WallTime expected;
  };
  for (const Case& c : std::initializer_list<Case>{
           {"2023-11-14T22:13:20Z", kNov14},
           {"2023-11-14T22:13:20.123456Z", kNov14 + 123456us},
           {"2023-11-14T22:13:20.5Z", kNov14 + 500ms},
           {"2023-11-14T23:13:20+01:00", kNov14},
           {"2023-11-14T20:43:20-01:30", kNov14},
           {"1970-01-01T00:00:00Z", Clock::WallTime{}},
       }) {
    auto parsed = parseTime(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().toString();
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
  const Clock::WallTime precise = kNov14 + 654321us;
  EXPECT_EQ(*parseTime(formatMicroTime(precise)), precise);
}

TEST(TimeFormat, RejectsAnythingElse) {
  for (const char* bad : {"",
                          "2023-11-14",
                          "2023-11-14 22:13:20Z",
                          "2023-11-14T22:13:20",
                          "2023-13-14T22:13:20Z",
                          "2023-02-30T22:13:20Z",
                          "2023-11-14T22:13:20.Z",
                          "2023-11-14T22:13:20Zjunk",
                          "yesterday at noon"}) {
    auto parsed = parseTime(bad);
    ASSERT_FALSE(parsed) << bad;
    EXPECT_EQ(parsed.error().code, ErrorCode::Parse);
  }
}

}  // namespace
}  // namespace kprof::runtime
