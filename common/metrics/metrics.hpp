// Metrics: a prometheus-cpp registry per process, rendered as Prometheus text for GET /metrics,
// plus the standard process_* metrics (CPU time, RSS, fds) read from /proc/self at scrape time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>

#include "common/core/result.hpp"

namespace kprof::metrics {

// The content type Prometheus expects for the text exposition format.
inline constexpr std::string_view kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Serializes everything registered, in the text exposition format.
std::string renderText(const std::vector<std::weak_ptr<prometheus::Collectable>>& collectables);

// What /proc/self/stat and /proc/self/statm tell about this process.
struct ProcessSample {
  double cpu_seconds = 0;  // user + system
  double resident_bytes = 0;
  double virtual_bytes = 0;
  double start_time_seconds = 0;  // since the epoch
  double open_fds = 0;
};

// Pure parsers, so they can be tested on fixed text. `ticks_per_second` is sysconf(_SC_CLK_TCK),
// `boot_time_seconds` the btime line of /proc/stat.
Result<ProcessSample> parseProcessStat(std::string_view stat_text,
                                       std::string_view statm_text,
                                       long ticks_per_second,
                                       long page_size,
                                       double boot_time_seconds);

// Reads this process's figures from `proc_root` (normally "/proc").
Result<ProcessSample> readSelf(const std::string& proc_root = "/proc");

// A Collectable that yields process_cpu_seconds_total, process_resident_memory_bytes,
// process_virtual_memory_bytes, process_start_time_seconds and process_open_fds on each scrape.
std::shared_ptr<prometheus::Collectable> makeProcessCollector(std::string proc_root = "/proc");

// The registry a binary exposes, with the process collector attached.
class MetricsRegistry {
 public:
  MetricsRegistry();

  prometheus::Registry& registry() { return *registry_; }
  // Prometheus text of the registry and the process metrics.
  std::string render() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<prometheus::Collectable> process_;
};

}  // namespace kprof::metrics
