#include "agent/symbolizer/symbol_table.hpp"

#include <algorithm>
#include <limits>

namespace kprof::agent {

std::optional<SymbolMatch> SymbolTable::lookup(uint64_t address) const {
  auto after = std::upper_bound(
      entries_.begin(), entries_.end(), address, [](uint64_t value, const Entry& entry) {
        return value < entry.start;
      });
  if (after == entries_.begin()) {
    return std::nullopt;
  }
  const Entry& entry = *std::prev(after);
  if (address >= entry.end) {
    return std::nullopt;
  }
  return SymbolMatch{nameOf(entry), entry.start, entry.end};
}

size_t SymbolTable::memoryBytes() const {
  return sizeof(*this) + entries_.capacity() * sizeof(Entry) + names_.capacity();
}

void SymbolTableBuilder::add(
    uint64_t start, uint64_t size, std::string_view name, uint64_t limit, uint32_t rank) {
  // Offsets are 32-bit to keep entries small; an arena past 4 GiB of names is not a real table.
  // The last address cannot start a range with an exclusive end: no real symbol is there.
  if (start == UINT64_MAX || names_.size() + name.size() > std::numeric_limits<uint32_t>::max() ||
      pending_.size() >= std::numeric_limits<uint32_t>::max()) {
    return;
  }
  pending_.push_back(Pending{.start = start,
                             .size = size,
                             .limit = limit,
                             .rank = rank,
                             .order = static_cast<uint32_t>(pending_.size()),
                             .nameOffset = static_cast<uint32_t>(names_.size()),
                             .nameSize = static_cast<uint32_t>(name.size())});
  names_.append(name);
}

SymbolTable SymbolTableBuilder::build() && {
  std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    if (a.start != b.start) {
      return a.start < b.start;
    }
    if (a.rank != b.rank) {
      return a.rank > b.rank;
    }
    return a.order < b.order;
  });
  // The first of each run of equal starts is the winner.
  pending_.erase(std::unique(pending_.begin(),
                             pending_.end(),
                             [](const Pending& a, const Pending& b) { return a.start == b.start; }),
                 pending_.end());

  SymbolTable table;
  table.entries_.reserve(pending_.size());
  size_t nameBytes = 0;
  for (const Pending& symbol : pending_) {
    nameBytes += symbol.nameSize;
  }
  table.names_.reserve(nameBytes);
  for (size_t i = 0; i < pending_.size(); ++i) {
    const Pending& symbol = pending_[i];
    uint64_t end;
    if (symbol.size != 0) {
      end = symbol.start + symbol.size < symbol.start ? UINT64_MAX : symbol.start + symbol.size;
    } else if (i + 1 < pending_.size()) {
      end = std::min(pending_[i + 1].start, symbol.limit);
    } else {
      end = symbol.limit == UINT64_MAX ? symbol.start + 1 : symbol.limit;
    }
    if (end <= symbol.start) {
      end = symbol.start + 1;
    }
    const auto offset = static_cast<uint32_t>(table.names_.size());
    table.names_.append(names_, symbol.nameOffset, symbol.nameSize);
    table.entries_.push_back(SymbolTable::Entry{symbol.start, end, offset, symbol.nameSize});
  }
  pending_.clear();
  names_.clear();
  return table;
}

}  // namespace kprof::agent
