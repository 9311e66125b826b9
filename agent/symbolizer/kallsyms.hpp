// Kernel symbols from /proc/kallsyms.
#pragma once

#include <string_view>

#include "agent/symbolizer/symbol_table.hpp"
#include "common/core/result.hpp"

namespace kprof::agent {

// Parses the text symbols (types t/T) of a kallsyms file. Each symbol reaches to the next one.
// When the kernel hides addresses (kptr_restrict, or a reader without CAP_SYSLOG) every address
// reads as zero: that is Unavailable, so callers never resolve kernel frames to garbage.
Result<SymbolTable> parseKallsyms(std::string_view text);

}  // namespace kprof::agent
