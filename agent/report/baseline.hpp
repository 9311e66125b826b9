// Baselines for regression gates in CI: `kprof record --save-baseline NAME` stores what a run
// cost and where its time went; `--compare-baseline NAME` prints the change of each figure and
// fails the command when cpu time, wall time or peak memory grew by more than the threshold.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/core/result.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::agent {

struct RunCost {
  double cpu_seconds = 0;  // user + system of the profiled command
  double wall_seconds = 0;
  double peak_rss_bytes = 0;
};

struct Baseline {
  std::string name;
  RunCost cost;
  std::vector<pprof::FunctionCost> top_functions;  // flat/cum in the profile's unit
  int64_t profile_total = 0;
  std::string git_commit;  // empty outside a git checkout
  std::string timestamp;   // RFC 3339, UTC
  nlohmann::json system;   // kernel, machine, cpus, hostname
};

nlohmann::json baselineToJson(const Baseline& baseline);
Result<Baseline> baselineFromJson(const nlohmann::json& json);

struct FigureChange {
  std::string figure;  // "cpu_seconds", "wall_seconds", "peak_rss_bytes"
  double base = 0;
  double current = 0;
  double percent = 0;  // (current - base) / base * 100; 0 when base is 0
  bool over_threshold = false;
};

struct BaselineComparison {
  std::vector<FigureChange> figures;
  bool regressed = false;  // some figure grew past the threshold
  std::string report;      // the printable table, with the top functions' share changes
};

// Pure: compares `current` against `base`; only growth counts as a regression.
BaselineComparison compareToBaseline(const Baseline& base,
                                     const Baseline& current,
                                     double threshold_percent);

// Files: <dir>/<name>.json. Names are restricted to [A-Za-z0-9._-] so they stay inside dir.
Status saveBaseline(const std::string& dir, const Baseline& baseline);
Result<Baseline> loadBaseline(const std::string& dir, const std::string& name);
Status checkBaselineName(const std::string& name);

}  // namespace kprof::agent
