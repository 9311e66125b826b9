// Kernel symbols from /proc/kallsyms, kept small: the index holds each text symbol's address and
// its line in the file (12 bytes a symbol, about 1.5 MB for a distribution kernel's 120,000), and
// names are read back from the file only for the symbols that stacks actually hit, then cached.
// Holding all names would cost 6 MB or more in an agent whose budget is 20 MB.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/symbolizer/symbol_table.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

// One kallsyms line: "ffffffff81000000 T _text" or "ffffffffc0a01000 t nft_init\t[nf_tables]".
struct KallsymsLine {
  uint64_t address = 0;
  char type = 0;
  std::string_view name;  // without the module suffix
};
std::optional<KallsymsLine> parseKallsymsLine(std::string_view line);

// Streams the lines of kallsyms text to a visitor; fails when the text cannot be read.
using KallsymsSource = std::function<Status(const std::function<void(std::string_view)>& visit)>;

class KernelSymbols {
 public:
  // Indexes the text symbols (types t/T); each reaches to the next one. When the kernel hides
  // addresses (kptr_restrict, or a reader without CAP_SYSLOG) every address reads as zero: that is
  // Unavailable, so kernel frames are never resolved to garbage. No symbol lines: Parse.
  static Result<KernelSymbols> load(KallsymsSource source);
  static Result<KernelSymbols> fromFile(const std::string& path, size_t maxBytes);
  static Result<KernelSymbols> fromText(std::string text);

  // Reads the names of the symbols covering `addresses` that are not cached yet, in one pass over
  // the source. If the file changed since it was indexed (a module was loaded), re-indexes first.
  Status loadNames(std::span<const uint64_t> addresses);
  // The symbol covering `address`, when its name is loaded (see loadNames). The name stays valid
  // until the next loadNames.
  std::optional<SymbolMatch> lookup(uint64_t address) const;

  size_t size() const { return starts_.size(); }
  size_t memoryBytes() const;

 private:
  KernelSymbols() = default;
  std::optional<size_t> ordinalOf(uint64_t address) const;
  Status index();
  // {line, ordinal} of the symbols covering `addresses` whose names are not cached, by line.
  std::vector<std::pair<uint32_t, uint32_t>> missingNames(std::span<const uint64_t> addresses) const;
  // One pass over the source caching the wanted names. False when a line no longer holds the
  // symbol the index expects there.
  Result<bool> readNames(const std::vector<std::pair<uint32_t, uint32_t>>& byLine);

  KallsymsSource source_;
  std::vector<uint64_t> starts_;  // sorted, distinct
  std::vector<uint32_t> lines_;   // the line of starts_[i] in the source
  std::unordered_map<uint32_t, std::string> names_;  // by ordinal; bounded by kMaxCachedNames
};

}  // namespace kprof::agent
