#include "agent/snapshot/flight_recorder.hpp"

#include <gtest/gtest.h>

namespace kprof::agent::snapshot {
namespace {

using std::chrono::seconds;
const auto kStart = std::chrono::system_clock::time_point{seconds{1'700'000'000}};

RawStack stack(uint64_t ip, uint64_t count) {
  return RawStack{.pid = 7, .user_ips = {ip}, .count = count};
}

// One bucket per second from kStart + first to kStart + last.
void fill(FlightRecorder& recorder, int first, int last, uint32_t hz = 100) {
  for (int second = first; second <= last; ++second) {
    recorder.add(kStart + seconds(second), kStart + seconds(second + 1), hz,
                 {stack(0x1000, 10), stack(0x2000 + second, 1)});
  }
}

TEST(FlightRecorder, KeepsOnlyTheWindow) {
  FlightRecorder recorder;
  recorder.setWindow(seconds(10));
  fill(recorder, 0, 29);
  EXPECT_EQ(recorder.buckets(), 10u);
  auto window = recorder.window(kStart);
  EXPECT_EQ(window.from, kStart + seconds(20));
  EXPECT_EQ(window.until, kStart + seconds(30));
}

TEST(FlightRecorder, MergesTheStacksOfAWindow) {
  FlightRecorder recorder;
  fill(recorder, 0, 4);
  auto window = recorder.window(kStart + seconds(2));  // buckets ending after 2 s: 2, 3, 4
  EXPECT_EQ(window.samples, 33u);
  ASSERT_EQ(window.stacks.size(), 4u);  // the shared stack once, three distinct ones
  EXPECT_EQ(window.stacks[0].user_ips, std::vector<uint64_t>{0x1000});
  EXPECT_EQ(window.stacks[0].count, 30u);
  EXPECT_EQ(window.stacks[0].value_ns, 30u * 10'000'000u);  // at 100 Hz
  EXPECT_EQ(window.frequency_hz, 100u);
}

TEST(FlightRecorder, BucketsOfDifferentRatesKeepTheirTime) {
  FlightRecorder recorder;
  recorder.add(kStart, kStart + seconds(1), 100, {stack(0x1000, 100)});
  recorder.add(kStart + seconds(1), kStart + seconds(2), 1000, {stack(0x1000, 1000)});
  auto window = recorder.window(kStart);
  ASSERT_EQ(window.stacks.size(), 1u);
  EXPECT_EQ(window.stacks[0].count, 1100u);
  EXPECT_EQ(window.stacks[0].value_ns, 2'000'000'000u);  // one second at each rate
  EXPECT_EQ(window.frequency_hz, 1000u);
}

TEST(FlightRecorder, MemoryCapEvictsTheOldest) {
  const std::size_t five_stacks = 5 * FlightRecorder::bytesOf(stack(0x1000, 1));
  FlightRecorder recorder(FlightRecorderLimits{.max_window = seconds(60), .max_bytes = five_stacks});
  recorder.setWindow(seconds(60));
  fill(recorder, 0, 9);  // two stacks a second
  EXPECT_LE(recorder.bytes(), five_stacks);
  EXPECT_EQ(recorder.stacks(), 4u);
  EXPECT_EQ(recorder.buckets(), 2u);
  EXPECT_EQ(recorder.evictedForMemory(), 8u);
  EXPECT_EQ(recorder.window(kStart).from, kStart + seconds(8));
}

TEST(FlightRecorder, WindowIsBounded) {
  FlightRecorder recorder(FlightRecorderLimits{.max_window = seconds(60)});
  recorder.setWindow(seconds(300));
  EXPECT_EQ(recorder.window(), seconds(60));
  recorder.setWindow(seconds(0));
  fill(recorder, 0, 3);
  EXPECT_EQ(recorder.buckets(), 0u);  // a zero window keeps nothing
}

TEST(FlightRecorder, EmptyWindowHasNoSamples) {
  FlightRecorder recorder;
  fill(recorder, 0, 2);
  auto window = recorder.window(kStart + seconds(10));
  EXPECT_TRUE(window.stacks.empty());
  EXPECT_EQ(window.samples, 0u);
}

}  // namespace
}  // namespace kprof::agent::snapshot
