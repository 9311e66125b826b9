#include "agent/symbolizer/kallsyms.hpp"

#include <charconv>

namespace kprof::agent {

Result<SymbolTable> parseKallsyms(std::string_view text) {
  SymbolTableBuilder builder;
  size_t lines = 0;
  bool anyAddress = false;
  while (!text.empty()) {
    const size_t newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline == std::string_view::npos ? text.size() : newline + 1);
    // "ffffffff81000000 T _text" or "ffffffffc0a01000 t nft_init\t[nf_tables]"
    const size_t firstSpace = line.find(' ');
    if (firstSpace == std::string_view::npos || line.size() < firstSpace + 4 ||
        line[firstSpace + 2] != ' ') {
      continue;
    }
    uint64_t address = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + firstSpace, address, 16);
    if (ec != std::errc() || ptr != line.data() + firstSpace) {
      continue;
    }
    ++lines;
    anyAddress = anyAddress || address != 0;
    const char type = line[firstSpace + 1];
    if (type != 't' && type != 'T') {
      continue;
    }
    std::string_view name = line.substr(firstSpace + 3);
    name = name.substr(0, name.find_first_of("\t "));
    if (!name.empty() && address != 0) {
      builder.add(address, 0, name);
    }
  }
  if (lines == 0) {
    return fail(ErrorCode::Parse, "kallsyms: no symbol lines");
  }
  if (!anyAddress) {
    return fail(ErrorCode::Unavailable, "kallsyms: addresses are hidden (kptr_restrict)");
  }
  return std::move(builder).build();
}

}  // namespace kprof::agent
