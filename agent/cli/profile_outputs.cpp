#include "agent/cli/profile_outputs.hpp"

#include <filesystem>
#include <fstream>

#include "agent/report/flame_graph.hpp"
#include "agent/report/profile_report.hpp"
#include "common/pprof/summary.hpp"

namespace kprof::agent {

Status writeFileAtomically(const std::string& path, const std::string& bytes) {
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::filesystem::create_directories(parent, ec);
  }
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      return fail(ErrorCode::Io, "cannot write " + temporary);
    }
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    return fail(ErrorCode::Io, "cannot write " + path + ": " + ec.message());
  }
  return ok();
}

size_t preferredSampleIndex(const pprof::Profile& profile) {
  auto index = pprof::findSampleIndex(profile);
  if (index) {
    return *index;
  }
  return profile.sample_type_size() > 0 ? static_cast<size_t>(profile.sample_type_size() - 1) : 0;
}

Result<WrittenOutputs> writeProfileOutputs(const pprof::Profile& profile,
                                           const std::string& dir,
                                           const std::string& stem,
                                           const std::string& title,
                                           size_t top_rows) {
  const size_t index = preferredSampleIndex(profile);
  auto summary = pprof::summarize(profile, index);
  if (!summary) {
    return summary.error();
  }
  auto stacks = stacksOf(profile, index);
  if (!stacks) {
    return stacks.error();
  }
  FlameGraphOptions options;
  options.title = title;
  options.unit = summary->totals.empty() ? "samples" : summary->totals[index].unit;
  const FlameNode tree = buildFlameTree(*stacks, "all");

  WrittenOutputs out;
  out.html = (std::filesystem::path(dir) / (stem + ".html")).string();
  out.svg = (std::filesystem::path(dir) / (stem + ".svg")).string();
  KPROF_TRY(writeFileAtomically(out.html, renderFlameGraphHtml(tree, options)));
  KPROF_TRY(writeFileAtomically(out.svg, renderFlameGraphSvg(tree, options)));
  out.top_table = formatTopTable(*summary, top_rows);
  auto cumulative = pprof::summarize(profile, index, pprof::CostOrder::Cumulative);
  out.report = summaryJson(*summary, top_rows);
  if (cumulative) {
    out.report["functions_by_cum"] = summaryJson(*cumulative, top_rows)["functions"];
  }
  out.report["flame_graph_html"] = out.html;
  out.report["flame_graph_svg"] = out.svg;
  return out;
}

}  // namespace kprof::agent
