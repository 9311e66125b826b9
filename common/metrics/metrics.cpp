#include "common/metrics/metrics.hpp"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <prometheus/text_serializer.h>
#include <unistd.h>

namespace kprof::metrics {
namespace {

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return fail(ErrorCode::Io, "cannot read " + path);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Splits on single spaces, skipping empty fields.
std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find_first_of(" \n", pos);
    const size_t stop = end == std::string_view::npos ? text.size() : end;
    if (stop > pos) {
      out.push_back(text.substr(pos, stop - pos));
    }
    pos = stop + 1;
  }
  return out;
}

Result<double> number(std::string_view field) {
  unsigned long long value = 0;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), value);
  if (ec != std::errc{} || end != field.data() + field.size()) {
    return fail(ErrorCode::Parse, "not a number: '" + std::string(field) + "'");
  }
  return static_cast<double>(value);
}

prometheus::MetricFamily gauge(std::string name, std::string help, double value, bool counter) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = counter ? prometheus::MetricType::Counter : prometheus::MetricType::Gauge;
  prometheus::ClientMetric metric;
  if (counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(metric);
  return family;
}

double bootTimeSeconds(const std::string& proc_root) {
  auto stat = readFile(proc_root + "/stat");
  if (!stat) {
    return 0;
  }
  std::istringstream lines(*stat);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("btime ", 0) == 0) {
      return number(std::string_view(line).substr(6)).valueOr(0.0);
    }
  }
  return 0;
}

class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_root) : proc_root_(std::move(proc_root)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    auto sample = readSelf(proc_root_);
    if (!sample) {
      return {};  // a scrape without process metrics beats a failed scrape
    }
    return {
        gauge("process_cpu_seconds_total",
              "User and system CPU time spent, in seconds.",
              sample->cpu_seconds,
              true),
        gauge("process_resident_memory_bytes",
              "Resident memory size in bytes.",
              sample->resident_bytes,
              false),
        gauge("process_virtual_memory_bytes",
              "Virtual memory size in bytes.",
              sample->virtual_bytes,
              false),
        gauge("process_start_time_seconds",
              "Start time of the process since the epoch, in seconds.",
              sample->start_time_seconds,
              false),
        gauge("process_open_fds", "Number of open file descriptors.", sample->open_fds, false),
    };
  }

 private:
  std::string proc_root_;
};

}  // namespace

std::string renderText(const std::vector<std::weak_ptr<prometheus::Collectable>>& collectables) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& weak : collectables) {
    if (auto collectable = weak.lock()) {
      auto collected = collectable->Collect();
      families.insert(families.end(),
                      std::make_move_iterator(collected.begin()),
                      std::make_move_iterator(collected.end()));
    }
  }
  return prometheus::TextSerializer().Serialize(families);
}

Result<ProcessSample> parseProcessStat(std::string_view stat_text,
                                       std::string_view statm_text,
                                       long ticks_per_second,
                                       long page_size,
                                       double boot_time_seconds) {
  // The command name (field 2) is in parentheses and may hold spaces or ')': fields resume after
  // the last ')'.
  const size_t close = stat_text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) {
    return fail(ErrorCode::Parse, "malformed /proc/self/stat");
  }
  const auto rest = fields(stat_text.substr(close + 1));
  // rest[0] is field 3 (state); utime is field 14, stime 15, starttime 22, vsize 23, rss 24.
  constexpr size_t kFirst = 3;
  auto field = [&](size_t n) -> Result<double> {
    if (n - kFirst >= rest.size()) {
      return fail(ErrorCode::Parse, "/proc/self/stat has too few fields");
    }
    return number(rest[n - kFirst]);
  };
  auto utime = field(14);
  auto stime = field(15);
  auto start = field(22);
  auto vsize = field(23);
  if (!utime || !stime || !start || !vsize) {
    return fail(ErrorCode::Parse, "malformed /proc/self/stat");
  }
  const auto statm = fields(statm_text);
  if (statm.size() < 2) {
    return fail(ErrorCode::Parse, "malformed /proc/self/statm");
  }
  auto resident_pages = number(statm[1]);
  if (!resident_pages) {
    return resident_pages.error();
  }
  ProcessSample sample;
  const auto ticks = static_cast<double>(ticks_per_second);
  sample.cpu_seconds = (*utime + *stime) / ticks;
  sample.start_time_seconds = boot_time_seconds + *start / ticks;
  sample.virtual_bytes = *vsize;
  sample.resident_bytes = *resident_pages * static_cast<double>(page_size);
  return sample;
}

Result<ProcessSample> readSelf(const std::string& proc_root) {
  auto stat = readFile(proc_root + "/self/stat");
  auto statm = readFile(proc_root + "/self/statm");
  if (!stat || !statm) {
    return fail(ErrorCode::Io, "cannot read " + proc_root + "/self/stat or statm");
  }
  auto sample = parseProcessStat(
      *stat, *statm, sysconf(_SC_CLK_TCK), sysconf(_SC_PAGESIZE), bootTimeSeconds(proc_root));
  if (!sample) {
    return sample;
  }
  std::error_code ec;
  double fds = 0;
  for (std::filesystem::directory_iterator it(proc_root + "/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++fds;
  }
  sample->open_fds = fds;
  return sample;
}

std::shared_ptr<prometheus::Collectable> makeProcessCollector(std::string proc_root) {
  return std::make_shared<ProcessCollector>(std::move(proc_root));
}

MetricsRegistry::MetricsRegistry()
    : registry_(std::make_shared<prometheus::Registry>()), process_(makeProcessCollector()) {}

std::string MetricsRegistry::render() const {
  return renderText({registry_, process_});
}

}  // namespace kprof::metrics
