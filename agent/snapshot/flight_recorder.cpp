#include "agent/snapshot/flight_recorder.hpp"

#include <algorithm>

#include "agent/sampler/stack_aggregator.hpp"

namespace kprof::agent::snapshot {

FlightRecorder::FlightRecorder(FlightRecorderLimits limits) : limits_(limits) {
  setWindow(window_);
}

void FlightRecorder::setWindow(std::chrono::seconds window) {
  window_ = std::clamp(window, std::chrono::seconds(0), limits_.max_window);
}

std::size_t FlightRecorder::bytesOf(const RawStack& stack) {
  return sizeof(RawStack) + sizeof(uint64_t) * (stack.user_ips.size() + stack.kernel_ips.size());
}

void FlightRecorder::dropOldest() {
  stack_count_ -= buckets_.front().stacks.size();
  bytes_ -= buckets_.front().bytes;
  buckets_.pop_front();
}

void FlightRecorder::add(std::chrono::system_clock::time_point from,
                         std::chrono::system_clock::time_point until,
                         uint32_t frequency_hz,
                         std::vector<RawStack> stacks) {
  const uint64_t period_ns = 1'000'000'000ULL / std::max<uint32_t>(frequency_hz, 1);
  std::size_t bytes = 0;
  for (RawStack& stack : stacks) {
    // Fixed now, while the rate is known: a merged window may mix rates.
    if (stack.value_ns == 0) stack.value_ns = stack.count * period_ns;
    bytes += bytesOf(stack);
  }
  stack_count_ += stacks.size();
  bytes_ += bytes;
  buckets_.push_back(Bucket{from, until, frequency_hz, std::move(stacks), bytes});
  while (!buckets_.empty() && buckets_.front().until <= until - window_) {
    dropOldest();
  }
  while (bytes_ > limits_.max_bytes && !buckets_.empty()) {
    ++evicted_for_memory_;
    dropOldest();
  }
}

RecordedWindow FlightRecorder::window(std::chrono::system_clock::time_point since) const {
  RecordedWindow out;
  StackAggregator merged;
  bool first = true;
  for (const Bucket& bucket : buckets_) {
    if (bucket.until <= since) continue;
    if (first) out.from = bucket.from;
    first = false;
    out.until = bucket.until;
    out.frequency_hz = std::max(out.frequency_hz, bucket.frequency_hz);
    for (const RawStack& stack : bucket.stacks) {
      out.samples += stack.count;
      merged.add(stack);
    }
  }
  out.stacks = merged.take();
  return out;
}

}  // namespace kprof::agent::snapshot
