#include "agent/report/baseline.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace kprof::agent {

nlohmann::json baselineToJson(const Baseline& baseline) {
  nlohmann::json functions = nlohmann::json::array();
  for (const auto& row : baseline.top_functions) {
    functions.push_back({{"name", row.name}, {"flat", row.flat}, {"cum", row.cum}});
  }
  return {{"kind", "kprof-baseline"},
          {"version", 1},
          {"name", baseline.name},
          {"cpu_seconds", baseline.cost.cpu_seconds},
          {"wall_seconds", baseline.cost.wall_seconds},
          {"peak_rss_bytes", baseline.cost.peak_rss_bytes},
          {"profile_total", baseline.profile_total},
          {"top_functions", functions},
          {"git_commit", baseline.git_commit},
          {"timestamp", baseline.timestamp},
          {"system", baseline.system}};
}

Result<Baseline> baselineFromJson(const nlohmann::json& json) {
  if (!json.is_object() || json.value("kind", "") != "kprof-baseline") {
    return fail(ErrorCode::Parse, "not a kprof baseline (missing \"kind\": \"kprof-baseline\")");
  }
  try {
    Baseline out;
    out.name = json.at("name").get<std::string>();
    out.cost.cpu_seconds = json.at("cpu_seconds").get<double>();
    out.cost.wall_seconds = json.at("wall_seconds").get<double>();
    out.cost.peak_rss_bytes = json.at("peak_rss_bytes").get<double>();
    out.profile_total = json.value("profile_total", int64_t{0});
    for (const auto& row : json.value("top_functions", nlohmann::json::array())) {
      out.top_functions.push_back({row.at("name").get<std::string>(),
                                   row.at("flat").get<int64_t>(),
                                   row.at("cum").get<int64_t>()});
    }
    out.git_commit = json.value("git_commit", "");
    out.timestamp = json.value("timestamp", "");
    out.system = json.value("system", nlohmann::json::object());
    return out;
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::Parse, std::string("malformed baseline: ") + e.what());
  }
}

BaselineComparison compareToBaseline(const Baseline& base,
                                     const Baseline& current,
                                     double threshold_percent) {
  BaselineComparison out;
  auto figure = [&](const char* name, double before, double after) {
    FigureChange change{name, before, after, 0, false};
    if (before > 0) {
      change.percent = (after - before) / before * 100.0;
    }
    change.over_threshold = change.percent > threshold_percent;
    out.regressed = out.regressed || change.over_threshold;
    out.figures.push_back(change);
  };
  figure("cpu_seconds", base.cost.cpu_seconds, current.cost.cpu_seconds);
  figure("wall_seconds", base.cost.wall_seconds, current.cost.wall_seconds);
  figure("peak_rss_bytes", base.cost.peak_rss_bytes, current.cost.peak_rss_bytes);

  std::ostringstream report;
  char line[160];
  std::snprintf(
      line, sizeof(line), "%-16s %14s %14s %9s\n", "figure", "baseline", "current", "change");
  report << "compared with baseline '" << base.name << "' (" << base.timestamp
         << (base.git_commit.empty() ? "" : ", commit " + base.git_commit.substr(0, 12)) << ")\n"
         << line;
  for (const auto& change : out.figures) {
    std::snprintf(line,
                  sizeof(line),
                  "%-16s %14.3f %14.3f %+8.1f%%%s\n",
                  change.figure.c_str(),
                  change.base,
                  change.current,
                  change.percent,
                  change.over_threshold ? "  over threshold" : "");
    report << line;
  }
  // Where the time went, as shares, so a regression points at a function.
  std::map<std::string, std::pair<double, double>> shares;
  for (const auto& row : base.top_functions) {
    shares[row.name].first =
        base.profile_total > 0 ? static_cast<double>(row.flat) / base.profile_total : 0;
  }
  for (const auto& row : current.top_functions) {
    shares[row.name].second =
        current.profile_total > 0 ? static_cast<double>(row.flat) / current.profile_total : 0;
  }
  report << "top functions (flat share: baseline → current)\n";
  for (const auto& [name, pair] : shares) {
    std::snprintf(line,
                  sizeof(line),
                  "  %6.2f%% → %6.2f%%  (%+.2fpp)  ",
                  pair.first * 100,
                  pair.second * 100,
                  (pair.second - pair.first) * 100);
    report << line << name << "\n";
  }
  std::snprintf(line,
                sizeof(line),
                "%s: threshold %.1f%%\n",
                out.regressed ? "REGRESSION" : "ok",
                threshold_percent);
  report << line;
  out.report = report.str();
  return out;
}

Status checkBaselineName(const std::string& name) {
  if (name.empty() || name.size() > 128 || name == "." || name == "..") {
    return fail(ErrorCode::InvalidArgument, "baseline name must be 1..128 characters");
  }
  for (const char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') {
      return fail(
          ErrorCode::InvalidArgument,
          "baseline name '" + name + "' may only contain letters, digits, '.', '_' and '-'");
    }
  }
  return ok();
}

Status saveBaseline(const std::string& dir, const Baseline& baseline) {
  KPROF_TRY(checkBaselineName(baseline.name));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto path = std::filesystem::path(dir) / (baseline.name + ".json");
  const auto temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << baselineToJson(baseline).dump(2) << "\n";
    if (!out) {
      return fail(ErrorCode::Io, "cannot write " + temporary);
    }
  }
  std::filesystem::rename(temporary, path, ec);
  if (ec) {
    return fail(ErrorCode::Io, "cannot write " + path.string() + ": " + ec.message());
  }
  return ok();
}

Result<Baseline> loadBaseline(const std::string& dir, const std::string& name) {
  KPROF_TRY(checkBaselineName(name));
  const auto path = std::filesystem::path(dir) / (name + ".json");
  std::ifstream in(path);
  if (!in) {
    return fail(
        ErrorCode::NotFound,
        "no baseline '" + name + "' in " + dir + " (save one with --save-baseline " + name + ")");
  }
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded()) {
    return fail(ErrorCode::Parse, path.string() + " is not valid JSON");
  }
  auto baseline = baselineFromJson(json);
  if (!baseline) {
    return baseline.error().wrap(path.string());
  }
  return baseline;
}

}  // namespace kprof::agent
