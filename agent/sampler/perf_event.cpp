#include "agent/sampler/perf_event.hpp"

#include <cerrno>
#include <charconv>
#include <fstream>
#include <string>

#include <linux/perf_event.h>
#include <sys/syscall.h>

#include <unistd.h>

#include "common/core/os_error.hpp"

namespace kprof::agent {

Result<UniqueFd> openCpuClockEvent(const CpuClockEvent& event) {
  perf_event_attr attr{};
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = PERF_COUNT_SW_CPU_CLOCK;
  // A fixed period in nanoseconds of CPU time rather than a frequency: every sample then
  // stands for exactly period_ns, which is the value the profile reports.
  attr.sample_period = event.period_ns;
  attr.inherit = event.inherit ? 1 : 0;
  attr.disabled = event.start_disabled ? 1 : 0;
  attr.exclude_kernel = event.include_kernel ? 0 : 1;
  attr.exclude_hv = 1;
  if (event.callchain) {
    attr.sample_type = PERF_SAMPLE_TID | PERF_SAMPLE_TIME | PERF_SAMPLE_CALLCHAIN;
    attr.exclude_callchain_kernel = event.include_kernel ? 0 : 1;
    attr.sample_max_stack = 127;
    if (event.wakeup_bytes > 0) {
      attr.watermark = 1;
      attr.wakeup_watermark = event.wakeup_bytes;
    }
  }
  long fd = syscall(SYS_perf_event_open, &attr, event.pid, event.cpu, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    return errnoError(errno, "perf_event_open");
  }
  return UniqueFd(static_cast<int>(fd));
}

std::optional<std::vector<int>> parseCpuList(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.remove_suffix(1);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::vector<int> cpus;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view range = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);

    size_t dash = range.find('-');
    std::string_view first_text = range.substr(0, dash);
    std::string_view last_text =
        dash == std::string_view::npos ? first_text : range.substr(dash + 1);
    int first = 0;
    int last = 0;
    auto parsed_first =
        std::from_chars(first_text.data(), first_text.data() + first_text.size(), first);
    auto parsed_last = std::from_chars(last_text.data(), last_text.data() + last_text.size(), last);
    if (first_text.empty() || last_text.empty() || parsed_first.ec != std::errc{} ||
        parsed_last.ec != std::errc{} ||
        parsed_first.ptr != first_text.data() + first_text.size() ||
        parsed_last.ptr != last_text.data() + last_text.size() || first < 0 || last < first ||
        last - first > 65536) {
      return std::nullopt;
    }
    for (int cpu = first; cpu <= last; ++cpu) {
      cpus.push_back(cpu);
    }
  }
  return cpus;
}

Result<std::vector<int>> readOnlineCpus(const std::filesystem::path& online_file) {
  std::ifstream in(online_file);
  std::string text;
  if (!in || !std::getline(in, text)) {
    return fail(ErrorCode::Io, "reading " + online_file.string());
  }
  std::optional<std::vector<int>> cpus = parseCpuList(text);
  if (!cpus) {
    return fail(ErrorCode::Parse, online_file.string() + ": unexpected CPU list '" + text + "'");
  }
  return *cpus;
}

}  // namespace kprof::agent
