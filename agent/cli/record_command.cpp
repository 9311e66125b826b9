#include "agent/cli/record_command.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <thread>

#include <sys/utsname.h>

#include <signal.h>
#include <unistd.h>

#include "agent/cli/launched_process.hpp"
#include "agent/pipeline/profile_assembler.hpp"
#include "agent/report/baseline.hpp"
#include "agent/report/profile_report.hpp"
#include "agent/sampler/engine_selection.hpp"
#include "agent/sampler/stack_aggregator.hpp"
#include "common/pprof/codec.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::agent {
namespace {

using namespace std::chrono_literals;

std::atomic<bool> interrupted{false};

void onInterrupt(int /*signal*/) {
  interrupted = true;
}

std::string utcNow() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string commandOutput(const char* command) {
  std::string out;
  if (FILE* pipe = ::popen(command, "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) {
      out += buffer;
    }
    ::pclose(pipe);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

nlohmann::json systemInfo() {
  utsname name{};
  ::uname(&name);
  char host[256] = {};
  ::gethostname(host, sizeof(host) - 1);
  return {{"kernel", std::string(name.sysname) + " " + name.release},
          {"machine", name.machine},
          {"cpus", std::thread::hardware_concurrency()},
          {"hostname", host}};
}

// CPU seconds and peak RSS of a running process, from /proc (for -p targets).
std::pair<double, double> processCost(uint32_t pid) {
  double cpu = 0;
  double peak = 0;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::ostringstream contents;  // (an istreambuf_iterator here trips -Wnull-dereference at -O2)
  contents << stat.rdbuf();
  const std::string text = contents.str();
  const auto close = text.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    for (int i = 3; i <= 15 && fields >> field; ++i) {
      if (i == 14 || i == 15) {
        cpu += std::stod(field) / static_cast<double>(::sysconf(_SC_CLK_TCK));
      }
    }
  }
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      peak = std::stod(line.substr(6)) * 1024;
    }
  }
  return {cpu, peak};
}

struct Recording {
  std::vector<RawStack> stacks;
  SamplerStats stats;
  double wall_seconds = 0;
};

// Drains the engine once a second into the aggregator until `done` says stop.
template <typename Done>
void sampleUntil(SamplingEngine& engine, StackAggregator& aggregator, Done done) {
  auto last_progress = std::chrono::steady_clock::now();
  while (!done()) {
    if (auto drained = engine.drain()) {
      for (auto& stack : *drained) {
        aggregator.add(std::move(stack));
      }
    }
    if (std::chrono::steady_clock::now() - last_progress >= 5s) {
      last_progress = std::chrono::steady_clock::now();
      std::cerr << "kprof: " << engine.stats().samples << " samples so far\n";
    }
  }
  if (auto drained = engine.drain()) {
    for (auto& stack : *drained) {
      aggregator.add(std::move(stack));
    }
  }
}

}  // namespace

int runRecord(const RecordOptions& options) {
  for (const auto& type : options.types) {
    if (type != "cpu" && type != "wall") {
      std::cerr << "kprof record: unknown profile type '" << type
                << "' (kprof record supports cpu and wall)\n";
      return 1;
    }
  }
  if (options.pids.empty() == options.command.empty()) {
    std::cerr << "kprof record: give either -p PID... or -- CMD ARGS\n";
    return 1;
  }
  if (options.save_baseline && !checkBaselineName(*options.save_baseline)) {
    std::cerr << "kprof record: " << checkBaselineName(*options.save_baseline).error().message
              << "\n";
    return 1;
  }

  std::optional<LaunchedProcess> launched;
  std::set<uint32_t> targets(options.pids.begin(), options.pids.end());
  if (!options.command.empty()) {
    auto process = LaunchedProcess::launch(options.command);
    if (!process) {
      std::cerr << "kprof record: " << process.error().message << "\n";
      return 1;
    }
    launched.emplace(std::move(*process));
    targets = {static_cast<uint32_t>(launched->pid())};
  }

  SamplerConfig config;
  config.targets = TargetSelector::processes(targets);
  config.frequency_hz = options.frequency_hz;
  config.off_cpu =
      std::find(options.types.begin(), options.types.end(), "wall") != options.types.end();
  config.allow_bpf = options.engine != "perf";
  EngineSelection selection = selectEngine(config);
  if (!selection.engine || (options.engine == "ebpf" && selection.engine->name() != "ebpf")) {
    std::cerr << "kprof record: cannot sample: " << selection.reason << "\n";
    return 1;
  }
  std::cerr << "kprof: engine " << selection.reason << "\n";
  if (config.off_cpu && selection.engine->name() != "ebpf") {
    std::cerr << "kprof: note: the " << selection.engine->name()
              << " engine has no off-CPU time; the wall profile holds on-CPU time only\n";
  }
  if (auto started = selection.engine->start(); !started) {
    std::cerr << "kprof record: cannot start sampling: " << started.error().message << "\n";
    return 1;
  }

  ::signal(SIGINT, onInterrupt);
  ::signal(SIGTERM, onInterrupt);
  StackAggregator aggregator;
  const auto started_at = std::chrono::system_clock::now();
  const auto steady_start = std::chrono::steady_clock::now();
  std::optional<ProcessUsage> usage;
  std::vector<std::pair<double, double>> costs_before;
  for (const uint32_t pid : targets) {
    costs_before.push_back(processCost(pid));
  }

  if (launched) {
    if (auto released = launched->release(); !released) {
      std::cerr << "kprof record: " << released.error().message << "\n";
      return 1;
    }
    if (!launched->holdsExit()) {
      std::cerr << "kprof: note: cannot trace the command's exit (ptrace refused); frames of "
                   "its last moments may stay unresolved\n";
    }
    std::cerr << "kprof: recording '" << options.command.front() << "' (pid " << launched->pid()
              << ") at " << options.frequency_hz << " Hz\n";
    const auto deadline = options.duration ? steady_start + *options.duration
                                           : std::chrono::steady_clock::time_point::max();
    sampleUntil(*selection.engine, aggregator, [&] {
      if (interrupted || std::chrono::steady_clock::now() >= deadline) {
        launched->terminate(2s);
        return true;
      }
      return launched->waitForExit(1s);
    });
  } else {
    const auto duration = options.duration.value_or(10s);
    std::cerr << "kprof: recording pid(s) " << config.targets.describe() << " at "
              << options.frequency_hz << " Hz for "
              << std::chrono::duration<double>(duration).count() << "s (Ctrl-C stops early)\n";
    const auto deadline = steady_start + duration;
    sampleUntil(*selection.engine, aggregator, [&] {
      if (interrupted || std::chrono::steady_clock::now() >= deadline) {
        return true;
      }
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
          1s, deadline - std::chrono::steady_clock::now()));
      return false;
    });
  }
  selection.engine->stop();
  const double wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - steady_start).count();

  // Symbolize while the command is held at its exit, then let it go.
  Symbolizer symbolizer;
  AssembleOptions assemble;
  assemble.sample_period_ns = 1'000'000'000ULL / options.frequency_hz;
  assemble.start = started_at;
  assemble.duration = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::chrono::duration<double>(wall_seconds));
  assemble.one_profile_per_process = false;
  const auto stacks = stacksForTypes(aggregator.take(), options.types);
  AssembleStats assemble_stats;
  auto profiles = assembleProfiles(stacks, symbolizer, assemble, &assemble_stats);

  RunCost cost{0, wall_seconds, 0};
  int exit_code = 0;
  if (launched) {
    auto finished = launched->finish();
    if (finished) {
      cost.cpu_seconds = finished->cpu_seconds;
      cost.peak_rss_bytes = finished->peak_rss_bytes;
      exit_code = finished->exit_code;
    }
  } else {
    size_t i = 0;
    for (const uint32_t pid : targets) {
      const auto [cpu, peak] = processCost(pid);
      cost.cpu_seconds += cpu - costs_before[i++].first;
      cost.peak_rss_bytes = std::max(cost.peak_rss_bytes, peak);
    }
  }

  const SamplerStats stats = selection.engine->stats();
  std::cerr << "kprof: " << stats.samples << " samples, " << stats.lost << " lost, "
            << stats.missing_user_stacks << " without user stack, "
            << assemble_stats.unresolved_frames << "/" << assemble_stats.frames
            << " frames unresolved\n";
  if (profiles.empty()) {
    std::cerr << "kprof record: no samples were collected (did the target use the CPU?)\n";
    return 1;
  }

  nlohmann::json report = {{"command", options.command},
                           {"pids", std::vector<uint32_t>(targets.begin(), targets.end())},
                           {"engine", std::string(selection.engine->name())},
                           {"frequency_hz", options.frequency_hz},
                           {"wall_seconds", wall_seconds},
                           {"cpu_seconds", cost.cpu_seconds},
                           {"peak_rss_bytes", cost.peak_rss_bytes},
                           {"exit_code", exit_code},
                           {"samples", stats.samples},
                           {"lost_samples", stats.lost},
                           {"profiles", nlohmann::json::array()}};
  std::optional<pprof::ProfileSummary> cpu_summary;
  for (const auto& assembled : profiles) {
    const std::string pprof_path =
        (std::filesystem::path(options.output_dir) / (assembled.profile_type + ".pb.gz")).string();
    auto encoded = pprof::encodeGzip(assembled.profile);
    if (!encoded || !writeFileAtomically(pprof_path, *encoded)) {
      std::cerr << "kprof record: cannot write " << pprof_path << "\n";
      return 1;
    }
    const std::string title =
        assembled.profile_type + " profile of " +
        (options.command.empty() ? config.targets.describe() : options.command.front());
    auto outputs = writeProfileOutputs(
        assembled.profile, options.output_dir, assembled.profile_type, title, options.top);
    if (!outputs) {
      std::cerr << "kprof record: " << outputs.error().message << "\n";
      return 1;
    }
    outputs->report["type"] = assembled.profile_type;
    outputs->report["pprof"] = pprof_path;
    report["profiles"].push_back(outputs->report);
    if (options.format == OutputFormat::Text) {
      std::cout << "\n== " << assembled.profile_type << ": top " << options.top
                << " functions by flat time (" << pprof_path << ")\n"
                << outputs->top_table;
      if (auto cum = pprof::summarize(assembled.profile,
                                      preferredSampleIndex(assembled.profile),
                                      pprof::CostOrder::Cumulative)) {
        std::cout << "\n== " << assembled.profile_type << ": top " << options.top
                  << " functions by cumulative time\n"
                  << formatTopTable(*cum, options.top);
      }
      std::cout << "\nflame graph: " << outputs->html << "\n             " << outputs->svg << "\n";
    }
    if (assembled.profile_type == "cpu" || !cpu_summary) {
      auto summary = pprof::summarize(assembled.profile, preferredSampleIndex(assembled.profile));
      if (summary) {
        cpu_summary = *summary;
      }
    }
  }

  int status = 0;
  Baseline current;
  current.cost = cost;
  if (cpu_summary) {
    current.profile_total = cpu_summary->totals[cpu_summary->sample_index].total;
    current.top_functions.assign(
        cpu_summary->functions.begin(),
        cpu_summary->functions.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(
                                             options.top, cpu_summary->functions.size())));
  }
  current.git_commit = commandOutput("git rev-parse HEAD 2>/dev/null");
  current.timestamp = utcNow();
  current.system = systemInfo();
  if (options.compare_baseline) {
    auto base = loadBaseline(options.baseline_dir, *options.compare_baseline);
    if (!base) {
      std::cerr << "kprof record: " << base.error().message << "\n";
      return 1;
    }
    const auto comparison = compareToBaseline(*base, current, options.threshold_percent);
    (options.format == OutputFormat::Text ? std::cout : std::cerr) << "\n" << comparison.report;
    report["baseline_comparison"] = nlohmann::json::array();
    for (const auto& figure : comparison.figures) {
      report["baseline_comparison"].push_back({{"figure", figure.figure},
                                               {"baseline", figure.base},
                                               {"current", figure.current},
                                               {"percent", figure.percent},
                                               {"over_threshold", figure.over_threshold}});
    }
    report["regressed"] = comparison.regressed;
    status = comparison.regressed ? 3 : 0;
  }
  if (options.save_baseline) {
    current.name = *options.save_baseline;
    if (auto saved = saveBaseline(options.baseline_dir, current); !saved) {
      std::cerr << "kprof record: " << saved.error().message << "\n";
      return 1;
    }
    std::cerr << "kprof: saved baseline '" << current.name << "' in " << options.baseline_dir
              << "\n";
  }
  const std::string report_path =
      (std::filesystem::path(options.output_dir) / "report.json").string();
  (void)writeFileAtomically(report_path, report.dump(2) + "\n");
  if (options.format == OutputFormat::Json) {
    std::cout << report.dump(2) << "\n";
  }
  return status;
}

}  // namespace kprof::agent
