// The agent's flight recorder: the last seconds of samples, kept aggregated (one bucket of merged
// stacks per drain) so a snapshot can upload what happened just before its command arrived.
// Pure: the caller hands in the times; nothing here reads a clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

#include "agent/sampler/sampling_engine.hpp"

namespace kprof::agent::snapshot {

struct FlightRecorderLimits {
  std::chrono::seconds max_window{60};  // the most any command may ask for
  std::size_t max_bytes = 16 << 20;     // memory of the kept stacks (bytesOf), all buckets
};

// What the recorder holds for a time range, merged into one set of stacks.
struct RecordedWindow {
  std::chrono::system_clock::time_point from;
  std::chrono::system_clock::time_point until;
  std::vector<RawStack> stacks;  // value_ns always set, so buckets of different rates merge
  uint64_t samples = 0;
  uint32_t frequency_hz = 0;  // the highest rate among the merged buckets
};

class FlightRecorder {
 public:
  explicit FlightRecorder(FlightRecorderLimits limits = {});

  // How far back to keep; clamped to [0, limits.max_window]. Shrinking evicts at the next add().
  void setWindow(std::chrono::seconds window);
  std::chrono::seconds window() const { return window_; }

  // One drain's stacks, sampled at `frequency_hz` over [from, until). Evicts buckets that ended
  // more than window() before `until`, then the oldest while over max_bytes.
  void add(std::chrono::system_clock::time_point from,
           std::chrono::system_clock::time_point until,
           uint32_t frequency_hz,
           std::vector<RawStack> stacks);

  // The buckets that end after `since`, merged.
  RecordedWindow window(std::chrono::system_clock::time_point since) const;

  std::size_t buckets() const { return buckets_.size(); }
  std::size_t stacks() const { return stack_count_; }
  std::size_t bytes() const { return bytes_; }
  // The memory one recorded stack takes, as counted against max_bytes.
  static std::size_t bytesOf(const RawStack& stack);
  uint64_t evictedForMemory() const { return evicted_for_memory_; }

 private:
  struct Bucket {
    std::chrono::system_clock::time_point from;
    std::chrono::system_clock::time_point until;
    uint32_t frequency_hz = 0;
    std::vector<RawStack> stacks;
    std::size_t bytes = 0;
  };
  void dropOldest();

  FlightRecorderLimits limits_;
  std::chrono::seconds window_{10};
  std::deque<Bucket> buckets_;
  std::size_t stack_count_ = 0;
  std::size_t bytes_ = 0;
  uint64_t evicted_for_memory_ = 0;
};

}  // namespace kprof::agent::snapshot
