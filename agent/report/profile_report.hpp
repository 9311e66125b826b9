// What `kprof record`, `kprof report` and `kprof diff` print and write for a profile: the stacks
// for a flame graph, the top-functions table, the machine-readable report and the diff of two
// profiles' function shares. Pure functions over decoded profiles.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "agent/report/flame_graph.hpp"
#include "common/core/result.hpp"
#include "common/pprof/profile_builder.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::agent {

// Stacks root first, named by function; a frame without a function is named after its module and
// offset ("libfoo.so+0x1a2b") or, without a mapping, its address — so it stays distinguishable.
Result<std::vector<WeightedStack>> stacksOf(const pprof::Profile& profile, size_t sample_index);

// A `pprof -top`-like table: flat, flat%, sum%, cum, cum% and the function, `limit` rows,
// values in human units (ms/s for nanoseconds, KiB/MiB for bytes).
std::string formatTopTable(const pprof::ProfileSummary& summary, size_t limit);

// "1.23s", "450ms", "12.5MiB", "1234": a value in its unit, for people.
std::string formatValue(int64_t value, const std::string& unit);

// {"sample_type":…, "unit":…, "total":…,
// "functions":[{"name","flat","flat_share","cum","cum_share"}]}
nlohmann::json summaryJson(const pprof::ProfileSummary& summary, size_t limit);

struct ShareChange {
  std::string name;
  double base_share = 0;     // flat share of the base profile's total, 0..1
  double current_share = 0;  // flat share in the current profile
  double delta() const { return current_share - base_share; }
};

// Functions ordered by how much their flat share changed, largest change first.
std::vector<ShareChange> diffShares(const pprof::ProfileSummary& base,
                                    const pprof::ProfileSummary& current);

std::string formatShareChanges(const std::vector<ShareChange>& changes, size_t limit);

}  // namespace kprof::agent
