// Aggregates samples by {pid, tid, kind, stacks} in user space: the perf_event engine's
// equivalent of the in-kernel count map, and the eBPF engine's merge step when several map keys
// resolve to the same stacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "agent/sampler/sampling_engine.hpp"

namespace kprof::agent {

class StackAggregator {
 public:
  // max_stacks bounds memory between two take() calls; 0 means unbounded.
  explicit StackAggregator(size_t max_stacks = 0) : max_stacks_(max_stacks) {}

  // Adds stack.count and stack.value_ns to the entry with the same identity. False when the
  // stack is new and the aggregator is full: the caller counts it as lost.
  bool add(RawStack stack);
  // Everything added since the previous take(), ordered by pid, kind, tid, then stacks.
  std::vector<RawStack> take();
  size_t size() const { return stacks_.size(); }

 private:
  struct Identity {
    uint32_t pid;
    std::optional<uint32_t> tid;
    ProfileKind kind;
    std::vector<uint64_t> user_ips;
    std::vector<uint64_t> kernel_ips;
    bool operator==(const Identity&) const = default;
  };
  struct IdentityHash {
    size_t operator()(const Identity& identity) const;
  };
  struct Totals {
    uint64_t count = 0;
    uint64_t value_ns = 0;
  };

  size_t max_stacks_;
  std::unordered_map<Identity, Totals, IdentityHash> stacks_;
};

}  // namespace kprof::agent
