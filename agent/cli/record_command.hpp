// `kprof record`: profile local processes without a cluster, then print and write the results.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/cli/profile_outputs.hpp"

namespace kprof::agent {

struct RecordOptions {
  uint32_t frequency_hz = 100;
  std::optional<std::chrono::milliseconds> duration;  // default: until the command exits, or 10 s
  std::vector<std::string> types = {"cpu"};           // cpu, wall
  std::string output_dir = "kprof-out";
  std::vector<uint32_t> pids;
  std::vector<std::string> command;
  OutputFormat format = OutputFormat::Text;
  std::string engine = "auto";  // auto, ebpf, perf
  std::optional<std::string> save_baseline;
  std::optional<std::string> compare_baseline;
  std::string baseline_dir = ".kprof/baselines";
  double threshold_percent = 20.0;
  size_t top = 20;
};

// Returns the process exit code: 0, 1 on errors, 3 when a baseline comparison regressed.
int runRecord(const RecordOptions& options);

}  // namespace kprof::agent
