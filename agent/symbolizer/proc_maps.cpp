#include "agent/symbolizer/proc_maps.hpp"

#include <algorithm>
#include <charconv>

namespace kprof::agent {
namespace {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// Splits off the next space-separated field; the kernel separates fields with one space but we
// accept runs of them.
std::string_view nextField(std::string_view& rest) {
  const size_t begin = rest.find_first_not_of(' ');
  if (begin == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(begin);
  const size_t length = std::min(rest.find(' '), rest.size());
  std::string_view field = rest.substr(0, length);
  rest.remove_prefix(length);
  return field;
}

template <typename Number>
bool parseNumber(std::string_view text, Number& out, int base) {
  if (text.empty()) {
    return false;
  }
  const char* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), last, out, base);
  return ec == std::errc() && ptr == last;
}

bool parseRange(std::string_view text, Mapping& mapping) {
  const size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    return false;
  }
  return parseNumber(text.substr(0, dash), mapping.start, 16) &&
         parseNumber(text.substr(dash + 1), mapping.end, 16) && mapping.start < mapping.end;
}

bool parsePermissions(std::string_view text, Mapping& mapping) {
  if (text.size() != 4) {
    return false;
  }
  const auto flag = [](char value, char set) { return value == set || value == '-'; };
  if (!flag(text[0], 'r') || !flag(text[1], 'w') || !flag(text[2], 'x') ||
      (text[3] != 'p' && text[3] != 's')) {
    return false;
  }
  mapping.readable = text[0] == 'r';
  mapping.writable = text[1] == 'w';
  mapping.executable = text[2] == 'x';
  mapping.shared = text[3] == 's';
  return true;
}

bool parseDevice(std::string_view text, Mapping& mapping) {
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return false;
  }
  return parseNumber(text.substr(0, colon), mapping.deviceMajor, 16) &&
         parseNumber(text.substr(colon + 1), mapping.deviceMinor, 16);
}

}  // namespace

bool Mapping::isFile() const {
  return path.starts_with('/') && !path.starts_with("//anon") && !path.starts_with("/memfd:") &&
         !path.starts_with("/dev/zero") && !path.starts_with("/SYSV");
}

bool Mapping::isAnonymous() const {
  return path.empty() || path.starts_with("[anon:") || path.starts_with("//anon") ||
         path.starts_with("/memfd:");
}

std::optional<Mapping> parseProcMapsLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  Mapping mapping;
  std::string_view rest = line;
  if (!parseRange(nextField(rest), mapping) || !parsePermissions(nextField(rest), mapping) ||
      !parseNumber(nextField(rest), mapping.fileOffset, 16) ||
      !parseDevice(nextField(rest), mapping) || !parseNumber(nextField(rest), mapping.inode, 10)) {
    return std::nullopt;
  }
  // The path is the rest of the line after the alignment padding; it may itself contain spaces.
  const size_t pathStart = rest.find_first_not_of(' ');
  if (pathStart != std::string_view::npos) {
    std::string_view path = rest.substr(pathStart);
    if (path.ends_with(kDeletedSuffix)) {
      path.remove_suffix(kDeletedSuffix.size());
      mapping.deleted = true;
    }
    mapping.path = std::string(path);
  }
  return mapping;
}

ProcMaps parseProcMaps(std::string_view text) {
  ProcMaps maps;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    if (line.empty()) {
      continue;
    }
    if (auto mapping = parseProcMapsLine(line)) {
      maps.mappings.push_back(std::move(*mapping));
    } else {
      ++maps.malformedLines;
    }
  }
  // The kernel writes them in order; sort anyway so lookups can rely on it.
  if (!std::is_sorted(maps.mappings.begin(), maps.mappings.end(), [](const auto& a, const auto& b) {
        return a.start < b.start;
      })) {
    std::stable_sort(maps.mappings.begin(), maps.mappings.end(), [](const auto& a, const auto& b) {
      return a.start < b.start;
    });
  }
  return maps;
}

const Mapping* findMapping(std::span<const Mapping> mappings, uint64_t address) {
  auto after = std::upper_bound(
      mappings.begin(), mappings.end(), address, [](uint64_t value, const Mapping& m) {
        return value < m.start;
      });
  if (after == mappings.begin()) {
    return nullptr;
  }
  const Mapping& candidate = *std::prev(after);
  return candidate.contains(address) ? &candidate : nullptr;
}

}  // namespace kprof::agent
