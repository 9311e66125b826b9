#include "controllers/policy/rfc3339.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace kprof::controllers {
namespace {

using std::chrono::day;
using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::month;
using std::chrono::nanoseconds;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::year;

WallTime utc(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
  return WallTime{sys_days{year{y} / month{m} / day{d}} + hours{hh} + minutes{mm} + seconds{ss}};
}

TEST(Rfc3339, ParsesWhatKubernetesAndAlertmanagerWrite) {
  struct Case {
    const char* text = nullptr;
    WallTime expected;
  };
  const std::vector<Case> cases = {
      {"2024-05-01T12:00:00Z", utc(2024, 5, 1, 12, 0, 0)},
      {"2024-05-01t12:00:00z", utc(2024, 5, 1, 12, 0, 0)},
      {"2024-05-01T12:00:00.5Z", utc(2024, 5, 1, 12, 0, 0) + milliseconds{500}},
      {"2024-05-01T12:00:00.123456789Z", utc(2024, 5, 1, 12, 0, 0) + nanoseconds{123456789}},
      {"2024-05-01T14:30:00+02:30", utc(2024, 5, 1, 12, 0, 0)},
      {"2024-05-01T00:00:00-01:00", utc(2024, 5, 1, 1, 0, 0)},
      {"2024-02-29T23:59:59Z", utc(2024, 2, 29, 23, 59, 59)},
      {"1970-01-01T00:00:00Z", WallTime{}},
  };
  for (const Case& c : cases) {
    auto parsed = parseRfc3339(c.text);
    ASSERT_TRUE(parsed) << c.text << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, c.expected) << c.text;
  }
}

TEST(Rfc3339, RejectsAnythingElse) {
  const std::vector<const char*> texts = {"",
                                          "yesterday",
                                          "2024-05-01",
                                          "2024-05-01T12:00:00",
                                          "2024-13-01T00:00:00Z",
                                          "2023-02-29T00:00:00Z",
                                          "2024-05-01T24:00:00Z",
                                          "2024-05-01T12:00:00Zjunk",
                                          "2024-05-01 12:00:00Z",
                                          "2024-05-01T12:00:00.Z",
                                          "2024-05-01T12:00:00+0200"};
  for (const char* text : texts) {
    auto parsed = parseRfc3339(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_EQ(parsed.error().code, ErrorCode::Parse);
  }
}

TEST(Rfc3339, FormatsWholeSecondsInUtc) {
  EXPECT_EQ(formatRfc3339(utc(2024, 5, 1, 12, 3, 4)), "2024-05-01T12:03:04Z");
  EXPECT_EQ(formatRfc3339(utc(2024, 5, 1, 12, 3, 4) + milliseconds{999}), "2024-05-01T12:03:04Z");
  EXPECT_EQ(formatRfc3339(WallTime{}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(*parseRfc3339(formatRfc3339(utc(2031, 12, 31, 23, 59, 59))),
            utc(2031, 12, 31, 23, 59, 59));
  EXPECT_EQ(truncateToSeconds(utc(2024, 5, 1, 0, 0, 1) + milliseconds{700}),
            utc(2024, 5, 1, 0, 0, 1));
}

}  // namespace
}  // namespace kprof::controllers
