// Opening cpu-clock perf events and finding the CPUs to open them on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

#include "common/core/unique_fd.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

struct CpuClockEvent {
  int pid = -1;  // a thread, or -1 for every task on `cpu`
  int cpu = -1;  // a CPU, or -1 to follow `pid` wherever it runs
  uint64_t period_ns = 10'000'000;
  bool inherit = false;         // also count threads and children created later
  bool callchain = false;       // sample TID | TIME | CALLCHAIN into an mmap ring
  bool include_kernel = true;   // false works under perf_event_paranoid 2 without CAP_PERFMON
  bool start_disabled = false;  // enable later with PERF_EVENT_IOC_ENABLE
  uint32_t wakeup_bytes = 0;    // with callchain: wake poll() once this much is buffered
};

// perf_event_open(2) for a software cpu-clock event. Errors keep errno's meaning
// (PermissionDenied for EPERM/EACCES).
Result<UniqueFd> openCpuClockEvent(const CpuClockEvent& event);

// "0-3,6,8-9" (the format of /sys/devices/system/cpu/online) → {0,1,2,3,6,8,9}.
std::optional<std::vector<int>> parseCpuList(std::string_view text);

Result<std::vector<int>> readOnlineCpus(const std::filesystem::path& online_file);

}  // namespace kprof::agent
