#include "agent/report/profile_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <unordered_map>

namespace kprof::agent {
namespace {

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof(text), "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string percent(double share) {
  char text[16];
  std::snprintf(text, sizeof(text), "%.2f%%", share * 100);
  return text;
}

double shareOf(int64_t value, int64_t total) {
  return total == 0 ? 0.0 : static_cast<double>(value) / static_cast<double>(total);
}

int64_t totalOf(const pprof::ProfileSummary& summary) {
  return summary.sample_index < summary.totals.size() ? summary.totals[summary.sample_index].total
                                                      : 0;
}

std::string unitOf(const pprof::ProfileSummary& summary) {
  return summary.sample_index < summary.totals.size() ? summary.totals[summary.sample_index].unit
                                                      : "";
}

}  // namespace

Result<std::vector<WeightedStack>> stacksOf(const pprof::Profile& profile, size_t sample_index) {
  if (sample_index >= static_cast<size_t>(profile.sample_type_size())) {
    return fail(ErrorCode::InvalidArgument, "sample index out of range");
  }
  const auto& strings = profile.string_table();
  auto str = [&](int64_t index) -> std::string {
    return index >= 0 && index < strings.size() ? strings.at(static_cast<int>(index)) : "";
  };
  std::unordered_map<uint64_t, std::string> function_names;
  for (const auto& function : profile.function()) {
    function_names[function.id()] = str(function.name());
  }
  std::unordered_map<uint64_t, const perftools::profiles::Mapping*> mappings;
  for (const auto& mapping : profile.mapping()) {
    mappings[mapping.id()] = &mapping;
  }
  // Frames of each location, innermost first (inlined frames come before their caller).
  std::unordered_map<uint64_t, std::vector<std::string>> frames_of;
  for (const auto& location : profile.location()) {
    auto& frames = frames_of[location.id()];
    for (const auto& line : location.line()) {
      const auto it = function_names.find(line.function_id());
      if (it != function_names.end() && !it->second.empty()) {
        frames.push_back(it->second);
      }
    }
    if (frames.empty()) {
      const auto mapping = mappings.find(location.mapping_id());
      if (mapping != mappings.end() && location.address() >= mapping->second->memory_start()) {
        const auto* m = mapping->second;
        const std::string module = std::filesystem::path(str(m->filename())).filename().string();
        frames.push_back((module.empty() ? "?" : module) + "+" +
                         hex(location.address() - m->memory_start() + m->file_offset()));
      } else {
        frames.push_back(hex(location.address()));
      }
    }
  }
  std::vector<WeightedStack> stacks;
  stacks.reserve(static_cast<size_t>(profile.sample_size()));
  for (const auto& sample : profile.sample()) {
    if (static_cast<int>(sample_index) >= sample.value_size()) {
      continue;
    }
    WeightedStack stack;
    stack.value = sample.value(static_cast<int>(sample_index));
    if (stack.value == 0) {
      continue;
    }
    // Samples list the leaf first; flame graphs want the root first.
    for (auto it = sample.location_id().rbegin(); it != sample.location_id().rend(); ++it) {
      const auto frames = frames_of.find(*it);
      if (frames == frames_of.end()) {
        continue;
      }
      stack.frames.insert(stack.frames.end(), frames->second.rbegin(), frames->second.rend());
    }
    stacks.push_back(std::move(stack));
  }
  return stacks;
}

std::string formatValue(int64_t value, const std::string& unit) {
  if (value == 0) {
    return "0";
  }
  char text[32];
  const auto v = static_cast<double>(value);
  if (unit == "nanoseconds") {
    if (std::llabs(value) >= 1'000'000'000) {
      std::snprintf(text, sizeof(text), "%.2fs", v / 1e9);
    } else if (std::llabs(value) >= 1'000'000) {
      std::snprintf(text, sizeof(text), "%.0fms", v / 1e6);
    } else {
      std::snprintf(text, sizeof(text), "%.0fus", v / 1e3);
    }
    return text;
  }
  if (unit == "bytes") {
    if (std::llabs(value) >= (1LL << 30)) {
      std::snprintf(text, sizeof(text), "%.2fGiB", v / (1 << 30));
    } else if (std::llabs(value) >= (1LL << 20)) {
      std::snprintf(text, sizeof(text), "%.2fMiB", v / (1 << 20));
    } else if (std::llabs(value) >= (1LL << 10)) {
      std::snprintf(text, sizeof(text), "%.1fKiB", v / (1 << 10));
    } else {
      std::snprintf(text, sizeof(text), "%lldB", static_cast<long long>(value));
    }
    return text;
  }
  return std::to_string(value);
}

std::string formatTopTable(const pprof::ProfileSummary& summary, size_t limit) {
  const int64_t total = totalOf(summary);
  const std::string unit = unitOf(summary);
  std::string out;
  char line[64];
  std::snprintf(
      line, sizeof(line), "%10s %8s %8s %10s %8s  ", "flat", "flat%", "sum%", "cum", "cum%");
  out += line;
  out += "function\n";
  double running = 0;
  const size_t rows = std::min(limit, summary.functions.size());
  for (size_t i = 0; i < rows; ++i) {
    const auto& row = summary.functions[i];
    running += shareOf(row.flat, total);
    std::snprintf(line,
                  sizeof(line),
                  "%10s %8s %8s %10s %8s  ",
                  formatValue(row.flat, unit).c_str(),
                  percent(shareOf(row.flat, total)).c_str(),
                  percent(running).c_str(),
                  formatValue(row.cum, unit).c_str(),
                  percent(shareOf(row.cum, total)).c_str());
    out += line;
    out += row.name;
    out += '\n';
  }
  return out;
}

nlohmann::json summaryJson(const pprof::ProfileSummary& summary, size_t limit) {
  const int64_t total = totalOf(summary);
  nlohmann::json out;
  if (summary.sample_index < summary.totals.size()) {
    out["sample_type"] = summary.totals[summary.sample_index].type;
  }
  out["unit"] = unitOf(summary);
  out["total"] = total;
  auto& totals = out["totals"] = nlohmann::json::array();
  for (const auto& each : summary.totals) {
    totals.push_back({{"type", each.type}, {"unit", each.unit}, {"total", each.total}});
  }
  auto& functions = out["functions"] = nlohmann::json::array();
  for (size_t i = 0; i < std::min(limit, summary.functions.size()); ++i) {
    const auto& row = summary.functions[i];
    functions.push_back({{"name", row.name},
                         {"flat", row.flat},
                         {"flat_share", shareOf(row.flat, total)},
                         {"cum", row.cum},
                         {"cum_share", shareOf(row.cum, total)}});
  }
  return out;
}

std::vector<ShareChange> diffShares(const pprof::ProfileSummary& base,
                                    const pprof::ProfileSummary& current) {
  std::map<std::string, ShareChange> by_name;
  const int64_t base_total = totalOf(base);
  const int64_t current_total = totalOf(current);
  for (const auto& row : base.functions) {
    auto& change = by_name[row.name];
    change.name = row.name;
    change.base_share = shareOf(row.flat, base_total);
  }
  for (const auto& row : current.functions) {
    auto& change = by_name[row.name];
    change.name = row.name;
    change.current_share = shareOf(row.flat, current_total);
  }
  std::vector<ShareChange> out;
  for (auto& [name, change] : by_name) {
    if (change.base_share != 0 || change.current_share != 0) {
      out.push_back(change);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const ShareChange& a, const ShareChange& b) {
    return std::abs(a.delta()) > std::abs(b.delta());
  });
  return out;
}

std::string formatShareChanges(const std::vector<ShareChange>& changes, size_t limit) {
  std::string out;
  char line[64];
  std::snprintf(line, sizeof(line), "%9s %9s %9s  ", "base", "current", "change");
  out += line;
  out += "function\n";
  for (size_t i = 0; i < std::min(limit, changes.size()); ++i) {
    const auto& change = changes[i];
    std::snprintf(line,
                  sizeof(line),
                  "%9s %9s %+8.2fpp  ",
                  percent(change.base_share).c_str(),
                  percent(change.current_share).c_str(),
                  change.delta() * 100);
    out += line;
    out += change.name;
    out += '\n';
  }
  return out;
}

}  // namespace kprof::agent
