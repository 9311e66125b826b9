#include "common/core/duration.hpp"

#include <gtest/gtest.h>

namespace kprof {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, AcceptsTheUnitsPeopleType) {
  EXPECT_EQ(parseDuration("30s"), milliseconds(30'000));
  EXPECT_EQ(parseDuration("500ms"), milliseconds(500));
  EXPECT_EQ(parseDuration("2m"), milliseconds(120'000));
  EXPECT_EQ(parseDuration("1h"), milliseconds(3'600'000));
  EXPECT_EQ(parseDuration("1.5"), milliseconds(1'500));
}

TEST(ParseDuration, RefusesWhatIsNotAPositiveDuration) {
  for (const char* bad : {"", "0", "-5s", "5 s", "5d", "s", "1e300", "nan"}) {
    EXPECT_FALSE(parseDuration(bad)) << bad;
  }
}

}  // namespace
}  // namespace kprof
