// perf_event callchains mix kernel and user frames, separated by PERF_CONTEXT_* markers.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace kprof::agent {

struct SplitCallchain {
  std::vector<uint64_t> kernel_ips;  // leaf first
  std::vector<uint64_t> user_ips;    // leaf first

  bool operator==(const SplitCallchain&) const = default;
};

// Splits a PERF_SAMPLE_CALLCHAIN array at its context markers. Hypervisor and guest frames are
// dropped; frames before any marker are classified by address (kernel text is in the upper
// half on 64-bit architectures).
SplitCallchain splitCallchain(std::span<const uint64_t> callchain);

}  // namespace kprof::agent
