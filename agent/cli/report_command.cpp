#include "agent/cli/report_command.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>

#include "agent/report/flame_graph.hpp"
#include "agent/report/profile_report.hpp"
#include "common/pprof/codec.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::agent {
namespace {

constexpr size_t kMaxProfileFileBytes = size_t{256} << 20;

Result<pprof::Profile> readProfile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) {
    return fail(ErrorCode::NotFound, path + ": " + ec.message());
  }
  if (size > kMaxProfileFileBytes) {
    return fail(ErrorCode::ResourceExhausted, path + ": larger than 256 MiB");
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  auto profile = pprof::decode(bytes);
  if (!profile) {
    return profile.error().wrap(path);
  }
  return profile;
}

Result<size_t> sampleIndexFor(const pprof::Profile& profile, const std::string& type) {
  if (type.empty()) {
    return preferredSampleIndex(profile);
  }
  return pprof::findSampleIndex(profile, type);
}

}  // namespace

int runReport(const ReportOptions& options) {
  auto profile = readProfile(options.file);
  if (!profile) {
    std::cerr << "kprof report: " << profile.error().message << "\n";
    return 1;
  }
  if (!options.sample_type.empty()) {
    auto index = pprof::findSampleIndex(*profile, options.sample_type);
    if (!index) {
      std::cerr << "kprof report: " << index.error().message << "\n";
      return 1;
    }
    profile->set_default_sample_type(profile->sample_type(static_cast<int>(*index)).type());
  }
  const std::string stem = std::filesystem::path(options.file).stem().stem().string();
  auto outputs = writeProfileOutputs(
      *profile, options.output_dir, stem, "profile " + options.file, options.top);
  if (!outputs) {
    std::cerr << "kprof report: " << outputs.error().message << "\n";
    return 1;
  }
  if (options.format == OutputFormat::Json) {
    outputs->report["pprof"] = options.file;
    std::cout << outputs->report.dump(2) << "\n";
    return 0;
  }
  std::cout << "== top " << options.top << " functions by flat value (" << options.file << ")\n"
            << outputs->top_table;
  if (auto cum = pprof::summarize(
          *profile, preferredSampleIndex(*profile), pprof::CostOrder::Cumulative)) {
    std::cout << "\n== top " << options.top << " functions by cumulative value\n"
              << formatTopTable(*cum, options.top);
  }
  std::cout << "\nflame graph: " << outputs->html << "\n             " << outputs->svg << "\n";
  return 0;
}

int runDiff(const DiffOptions& options) {
  auto base = readProfile(options.base);
  auto current = readProfile(options.current);
  if (!base || !current) {
    std::cerr << "kprof diff: " << (!base ? base.error() : current.error()).message << "\n";
    return 1;
  }
  const size_t current_index = preferredSampleIndex(*current);
  const std::string type = current->string_table(
      static_cast<int>(current->sample_type(static_cast<int>(current_index)).type()));
  auto base_index = sampleIndexFor(*base, type);
  if (!base_index) {
    std::cerr << "kprof diff: " << options.base << " has no '" << type
              << "' samples to compare with\n";
    return 1;
  }
  auto base_summary = pprof::summarize(*base, *base_index);
  auto current_summary = pprof::summarize(*current, current_index);
  auto base_stacks = stacksOf(*base, *base_index);
  auto current_stacks = stacksOf(*current, current_index);
  if (!base_summary || !current_summary || !base_stacks || !current_stacks) {
    std::cerr << "kprof diff: cannot summarize the profiles\n";
    return 1;
  }
  const auto changes = diffShares(*base_summary, *current_summary);
  FlameGraphOptions graph;
  graph.title = "diff: " + options.base + " → " + options.current;
  graph.unit = current_summary->totals[current_index].unit;
  graph.diff = true;
  const std::string html = (std::filesystem::path(options.output_dir) / "diff.html").string();
  const auto tree = buildDiffTree(*base_stacks, *current_stacks, "all");
  if (auto written = writeFileAtomically(html, renderFlameGraphHtml(tree, graph)); !written) {
    std::cerr << "kprof diff: " << written.error().message << "\n";
    return 1;
  }
  const std::string svg = (std::filesystem::path(options.output_dir) / "diff.svg").string();
  (void)writeFileAtomically(svg, renderFlameGraphSvg(tree, graph));
  if (options.format == OutputFormat::Json) {
    nlohmann::json out = {{"base", options.base},
                          {"current", options.current},
                          {"sample_type", type},
                          {"flame_graph_html", html},
                          {"changes", nlohmann::json::array()}};
    for (size_t i = 0; i < std::min(options.top, changes.size()); ++i) {
      out["changes"].push_back({{"name", changes[i].name},
                                {"base_share", changes[i].base_share},
                                {"current_share", changes[i].current_share},
                                {"delta", changes[i].delta()}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << "== functions whose share of " << type << " changed most\n"
            << formatShareChanges(changes, options.top) << "\ndiff flame graph: " << html
            << " (red grew, blue shrank)\n";
  return 0;
}

}  // namespace kprof::agent
