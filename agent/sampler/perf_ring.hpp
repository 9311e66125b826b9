// The mmap ring buffer of one perf event, and the records the perf_event engine reads from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "common/core/unique_fd.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

// A PERF_RECORD_SAMPLE written with sample_type TID | TIME | CALLCHAIN.
struct PerfSample {
  uint32_t pid = 0;
  uint32_t tid = 0;
  uint64_t time_ns = 0;
  std::vector<uint64_t> callchain;  // leaf first, with PERF_CONTEXT_* markers
};

// record: one whole record, perf_event_header included. nullopt for other record types and for
// truncated or inconsistent records.
std::optional<PerfSample> parseSampleRecord(std::span<const std::byte> record);
// The number of samples a PERF_RECORD_LOST reports; nullopt for other records.
std::optional<uint64_t> parseLostRecord(std::span<const std::byte> record);

// Owns a perf event fd and its mapped ring (one metadata page + data_pages data pages).
class PerfRing {
 public:
  static Result<PerfRing> map(UniqueFd event, uint32_t data_pages);

  PerfRing(PerfRing&& other) noexcept;
  PerfRing& operator=(PerfRing&& other) noexcept;
  PerfRing(const PerfRing&) = delete;
  PerfRing& operator=(const PerfRing&) = delete;
  ~PerfRing();

  int fd() const { return event_.get(); }
  // Calls on_record for every complete record written so far, oldest first, then hands the
  // space back to the kernel. Records that wrap around the end arrive contiguous.
  void consume(const std::function<void(std::span<const std::byte>)>& on_record);

 private:
  PerfRing(UniqueFd event, void* base, size_t length)
      : event_(std::move(event)), base_(base), length_(length) {}
  void unmap();

  UniqueFd event_;
  void* base_ = nullptr;
  size_t length_ = 0;
  std::vector<uint64_t> scratch_;  // 8-byte aligned copy of the current record
};

}  // namespace kprof::agent
