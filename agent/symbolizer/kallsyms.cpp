#include "agent/symbolizer/kallsyms.hpp"

#include <algorithm>
#include <charconv>
#include <utility>

#include "agent/symbolizer/file_access.hpp"

namespace kprof::agent {
namespace {

// Distinct kernel functions in a day of stacks are a few thousand; past this the cache starts over.
constexpr size_t kMaxCachedNames = 16384;

bool isTextSymbol(const KallsymsLine& line) {
  return (line.type == 't' || line.type == 'T') && line.address != 0 && !line.name.empty();
}

}  // namespace

std::optional<KallsymsLine> parseKallsymsLine(std::string_view line) {
  const size_t firstSpace = line.find(' ');
  if (firstSpace == std::string_view::npos || line.size() < firstSpace + 4 ||
      line[firstSpace + 2] != ' ') {
    return std::nullopt;
  }
  KallsymsLine out;
  const auto [ptr, ec] = std::from_chars(line.data(), line.data() + firstSpace, out.address, 16);
  if (ec != std::errc() || ptr != line.data() + firstSpace) {
    return std::nullopt;
  }
  out.type = line[firstSpace + 1];
  out.name = line.substr(firstSpace + 3);
  out.name = out.name.substr(0, out.name.find_first_of("\t "));
  return out;
}

Result<KernelSymbols> KernelSymbols::load(KallsymsSource source) {
  KernelSymbols symbols;
  symbols.source_ = std::move(source);
  KPROF_TRY(symbols.index());
  return symbols;
}

Result<KernelSymbols> KernelSymbols::fromFile(const std::string& path, size_t maxBytes) {
  return load([path, maxBytes](const std::function<void(std::string_view)>& visit) {
    return forEachLine(path, maxBytes, visit);
  });
}

Result<KernelSymbols> KernelSymbols::fromText(std::string text) {
  return load([text = std::move(text)](const std::function<void(std::string_view)>& visit) {
    std::string_view rest = text;
    while (!rest.empty()) {
      const size_t newline = rest.find('\n');
      visit(rest.substr(0, newline));
      rest.remove_prefix(newline == std::string_view::npos ? rest.size() : newline + 1);
    }
    return ok();
  });
}

Status KernelSymbols::index() {
  struct Entry {
    uint64_t start;
    uint32_t line;
  };
  std::vector<Entry> entries;
  size_t symbolLines = 0;
  bool anyAddress = false;
  uint32_t lineNumber = 0;
  KPROF_TRY(source_([&](std::string_view text) {
    const auto line = parseKallsymsLine(text);
    if (line) {
      ++symbolLines;
      anyAddress = anyAddress || line->address != 0;
      if (isTextSymbol(*line)) {
        entries.push_back(Entry{line->address, lineNumber});
      }
    }
    ++lineNumber;
  }));
  if (symbolLines == 0) {
    return fail(ErrorCode::Parse, "kallsyms: no symbol lines");
  }
  if (!anyAddress) {
    return fail(ErrorCode::Unavailable, "kallsyms: addresses are hidden (kptr_restrict)");
  }
  // Aliases share an address; the first in the file names it.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.start < b.start; });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) { return a.start == b.start; }),
                entries.end());
  starts_.clear();
  lines_.clear();
  starts_.reserve(entries.size());
  lines_.reserve(entries.size());
  for (const Entry& entry : entries) {
    starts_.push_back(entry.start);
    lines_.push_back(entry.line);
  }
  names_.clear();
  return ok();
}

std::optional<size_t> KernelSymbols::ordinalOf(uint64_t address) const {
  const auto after = std::upper_bound(starts_.begin(), starts_.end(), address);
  if (after == starts_.begin()) {
    return std::nullopt;
  }
  const auto ordinal = static_cast<size_t>(after - starts_.begin()) - 1;
  // The last symbol has no successor to bound it: it covers only its own address.
  if (after == starts_.end() && address != starts_[ordinal]) {
    return std::nullopt;
  }
  return ordinal;
}

std::vector<std::pair<uint32_t, uint32_t>> KernelSymbols::missingNames(
    std::span<const uint64_t> addresses) const {
  std::vector<std::pair<uint32_t, uint32_t>> byLine;
  for (const uint64_t address : addresses) {
    const auto ordinal = ordinalOf(address);
    if (ordinal && !names_.contains(static_cast<uint32_t>(*ordinal))) {
      byLine.emplace_back(lines_[*ordinal], static_cast<uint32_t>(*ordinal));
    }
  }
  std::sort(byLine.begin(), byLine.end());
  byLine.erase(std::unique(byLine.begin(), byLine.end()), byLine.end());
  return byLine;
}

Result<bool> KernelSymbols::readNames(const std::vector<std::pair<uint32_t, uint32_t>>& byLine) {
  bool intact = true;
  size_t next = 0;
  uint32_t lineNumber = 0;
  KPROF_TRY(source_([&](std::string_view text) {
    for (; next < byLine.size() && byLine[next].first == lineNumber; ++next) {
      const uint32_t ordinal = byLine[next].second;
      const auto line = parseKallsymsLine(text);
      if (line && isTextSymbol(*line) && line->address == starts_[ordinal]) {
        names_.emplace(ordinal, std::string(line->name));
      } else {
        intact = false;
      }
    }
    ++lineNumber;
  }));
  return intact && next == byLine.size();
}

Status KernelSymbols::loadNames(std::span<const uint64_t> addresses) {
  auto wanted = missingNames(addresses);
  if (wanted.empty()) {
    return ok();
  }
  if (names_.size() + wanted.size() > kMaxCachedNames) {
    names_.clear();
    wanted = missingNames(addresses);
  }
  auto intact = readNames(wanted);
  KPROF_TRY(intact);
  if (!*intact) {
    // Modules came or went since the index was built: rebuild it and read the names again.
    KPROF_TRY(index());
    KPROF_TRY(readNames(missingNames(addresses)));
  }
  return ok();
}

std::optional<SymbolMatch> KernelSymbols::lookup(uint64_t address) const {
  const auto ordinal = ordinalOf(address);
  if (!ordinal) {
    return std::nullopt;
  }
  const auto name = names_.find(static_cast<uint32_t>(*ordinal));
  if (name == names_.end()) {
    return std::nullopt;
  }
  const uint64_t end = *ordinal + 1 < starts_.size() ? starts_[*ordinal + 1] : address + 1;
  return SymbolMatch{name->second, starts_[*ordinal], end};
}

size_t KernelSymbols::memoryBytes() const {
  size_t bytes = starts_.capacity() * sizeof(uint64_t) + lines_.capacity() * sizeof(uint32_t);
  for (const auto& [ordinal, name] : names_) {
    bytes += sizeof(ordinal) + sizeof(name) + name.capacity() + 16;
  }
  return bytes;
}

}  // namespace kprof::agent
