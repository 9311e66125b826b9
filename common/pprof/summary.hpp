// What a person asks of a profile first: how much in total, and which functions cost it.
// `kprof record` prints the top of this table; the interop tests compare it with go tool pprof.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.hpp"
#include "common/pprof/profile_builder.hpp"

namespace kprof::pprof {

struct SampleTypeTotal {
  std::string type;  // e.g. "cpu"
  std::string unit;  // e.g. "nanoseconds"
  int64_t total = 0;
};

// One row of the top-functions table, as `go tool pprof -top` shows it.
struct FunctionCost {
  std::string name;
  int64_t flat = 0;  // spent in the function itself (it is the leaf frame)
  int64_t cum = 0;   // spent in the function and its callees, counted once per sample
};

enum class CostOrder { Flat, Cumulative };

struct ProfileSummary {
  std::vector<SampleTypeTotal> totals;  // one per sample type, in profile order
  size_t sample_index = 0;              // which value the function table measures
  // Every function with a nonzero flat or cum, costliest first (ties: the other cost, then name).
  std::vector<FunctionCost> functions;
};

// Summarizes `profile` for value `sample_index`. Frames are named by function name; inlined
// functions count as their own frames; locations without symbols are named by address ("0x4005d0").
// Fails on an invalid profile or a sample index past the sample types.
Result<ProfileSummary> summarize(const Profile& profile,
                                 size_t sample_index,
                                 CostOrder order = CostOrder::Flat);

// The position of sample type `type` (e.g. "alloc_space"); an empty `type` picks the profile's
// default sample type, or the last one when it names none, as pprof viewers do.
Result<size_t> findSampleIndex(const Profile& profile, std::string_view type = {});

}  // namespace kprof::pprof
