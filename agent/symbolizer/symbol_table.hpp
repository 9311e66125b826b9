// An address-sorted table of named ranges with binary-search lookup: the one shape shared by ELF
// function symbols, perf-map JIT entries and kernel symbols. Names live in one arena so a table
// costs about 24 bytes per symbol plus its name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kprof::agent {

struct SymbolMatch {
  std::string_view name;  // valid while the table lives
  uint64_t start = 0;
  uint64_t end = 0;
};

class SymbolTable {
 public:
  // The symbol whose range contains `address`, or nullopt.
  std::optional<SymbolMatch> lookup(uint64_t address) const;
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Approximate heap bytes, for cache budgets.
  size_t memoryBytes() const;

  // Every symbol in address order; used to carry a table over into a rebuilt one.
  template <typename Visit>
  void forEach(Visit visit) const {
    for (const Entry& entry : entries_) {
      visit(entry.start, entry.end - entry.start, nameOf(entry));
    }
  }

 private:
  friend class SymbolTableBuilder;
  struct Entry {
    uint64_t start;
    uint64_t end;  // exclusive
    uint32_t nameOffset;
    uint32_t nameSize;
  };
  std::string_view nameOf(const Entry& entry) const {
    return std::string_view(names_).substr(entry.nameOffset, entry.nameSize);
  }

  std::vector<Entry> entries_;
  std::string names_;
};

// Collects symbols in any order and builds the sorted table. Where several symbols start at the
// same address (aliases), the one with the highest rank wins, then the first added.
class SymbolTableBuilder {
 public:
  // `size` 0 means unknown: the symbol then reaches to the next symbol's start, but never past
  // `limit` (its section's end). A size-0 symbol with nothing after it and no limit covers only its
  // own address, so a stray address is not attributed to the last symbol of an image.
  void add(uint64_t start,
           uint64_t size,
           std::string_view name,
           uint64_t limit = UINT64_MAX,
           uint32_t rank = 0);
  size_t size() const { return pending_.size(); }
  SymbolTable build() &&;

 private:
  struct Pending {
    uint64_t start;
    uint64_t size;
    uint64_t limit;
    uint32_t rank;
    uint32_t order;
    uint32_t nameOffset;
    uint32_t nameSize;
  };
  std::vector<Pending> pending_;
  std::string names_;
};

}  // namespace kprof::agent
